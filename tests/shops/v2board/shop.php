<?php
// A stand-in for V2Board's Laravel around its real EPay plugin
// (app/Payments/EPay.php, unchanged): the routes of PaymentService::pay and
// Guest\PaymentController::notify, written from those files, with the
// orders in a JSON file instead of MySQL. Run by tests/integration/test_shops.py
// under `php -S 127.0.0.1:PORT shop.php`.
//
//   GET  /_test/pay?trade_no=&total_amount=   PaymentService::pay -> {"type":1,"data":"<submit.php URL>"}
//   GET|POST /api/v1/guest/payment/notify/EPay/{uuid}   the notify (PaymentController::notify)
//   GET  /_test/order/{trade_no}               the order as stored (status 0 unpaid, 1 paid)
//   GET  /                                     the SPA whose hash route #/order/{trade_no} shows an order
error_reporting(E_ALL & ~E_DEPRECATED);  // EPay.php sets a dynamic property ($this->config)
ini_set('display_errors', 'stderr');

require __DIR__ . '/app/Payments/EPay.php';

$state = getenv('SHOP_STATE');
$config = ['url' => getenv('EPAY_URL'), 'pid' => getenv('EPAY_PID'), 'key' => getenv('EPAY_KEY'),
           'uuid' => 'c0ffee00', 'enable' => 1, 'notify_domain' => ''];
$appUrl = 'http://' . $_SERVER['HTTP_HOST'];

function orders_load($state) { return is_file($state) ? json_decode(file_get_contents($state), true) : []; }
function orders_save($state, $orders) { file_put_contents($state, json_encode($orders), LOCK_EX); }
function abort_with($code, $message) { http_response_code($code); echo $message; exit; }

$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);

if ($path === '/_test/pay') {
    // PaymentService::pay: the notify URL of this gateway, the hash-routed return page.
    $order = ['trade_no' => $_GET['trade_no'], 'total_amount' => (int)$_GET['total_amount'], 'status' => 0];
    $orders = orders_load($state);
    $orders[$order['trade_no']] = $order;
    orders_save($state, $orders);
    $payment = new \App\Payments\EPay($config);
    $result = $payment->pay([
        'notify_url' => $appUrl . "/api/v1/guest/payment/notify/EPay/{$config['uuid']}",
        'return_url' => $appUrl . '/#/order/' . $order['trade_no'],
        'trade_no' => $order['trade_no'],
        'total_amount' => $order['total_amount'],
        'user_id' => 1,
        'stripe_token' => null,
    ]);
    header('Content-Type: application/json');
    echo json_encode($result);
    return true;
}

if (preg_match('#^/api/v1/guest/payment/notify/EPay/([0-9a-f]+)$#', $path)) {
    // PaymentController::notify: $request->input() is the query and the body together.
    $payment = new \App\Payments\EPay($config);
    $verify = $payment->notify(array_merge($_GET, $_POST));
    if (!$verify) abort_with(500, 'verify error');
    $orders = orders_load($state);
    if (!isset($orders[$verify['trade_no']])) abort_with(500, 'order is not found');
    if ($orders[$verify['trade_no']]['status'] === 0) {
        $orders[$verify['trade_no']]['status'] = 1;
        $orders[$verify['trade_no']]['callback_no'] = $verify['callback_no'];
        $orders[$verify['trade_no']]['notified'] = array_merge($_GET, $_POST);
        orders_save($state, $orders);
    }
    die(isset($verify['custom_result']) ? $verify['custom_result'] : 'success');
}

if (preg_match('#^/_test/order/(.+)$#', $path, $m)) {
    $orders = orders_load($state);
    header('Content-Type: application/json');
    echo json_encode($orders[urldecode($m[1])] ?? null);
    return true;
}

if ($path === '/') {
    // The SPA: its hash router reads "#/order/<trade_no>" (and ignores a query after it).
    header('Content-Type: text/html; charset=utf-8');
    echo '<!doctype html><title>V2Board</title><div id="app"></div><script>'
        . 'var m = location.hash.match(/^#\/order\/([^?]+)/);'
        . 'document.getElementById("app").textContent = m ? "order " + decodeURIComponent(m[1]) : "home";'
        . '</script>';
    return true;
}

abort_with(404, 'no route');
