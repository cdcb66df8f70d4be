<?php
// A stand-in for dujiaoka's Laravel around its real payment controllers
// (app/Http/Controllers/Pay/YipayController.php and EpusdtController.php,
// unchanged): the base PayController, Request, Guzzle's client, route(),
// url() and redirect(), and the order / gateway services, with the orders
// in a JSON file instead of MySQL. The routes are those of
// routes/common/pay.php. Run by tests/integration/test_shops.py under
// `php -S 127.0.0.1:PORT shop.php`.
//
// The two gateways as an operator configures them in dujiaoka's admin
// (docs/merchant.md): env YIPAY_URL (商户 KEY: the submit.php URL),
// MERCHANT_PID (商户 ID), MERCHANT_KEY (商户密钥 for Yipay; 商户 ID for epusdt),
// EPUSDT_URL (商户密钥 of the epusdt gateway: create-transaction).

namespace App\Exceptions {
    class RuleValidationException extends \Exception {}
}

namespace GuzzleHttp\Exception {
    interface GuzzleException {}
    class TransferException extends \RuntimeException implements GuzzleException {}
}

namespace GuzzleHttp {
    // Guzzle's Client::post with a 'body': an HTTP POST by PHP's stream wrapper.
    class Body { public function __construct(private string $text) {} public function getContents() { return $this->text; } }
    class Response { public function __construct(private string $text) {} public function getBody() { return new Body($this->text); } }
    class Client {
        private array $headers;
        public function __construct(array $config = []) { $this->headers = $config['headers'] ?? []; }
        public function post($url, array $options = []) {
            $lines = [];
            foreach ($this->headers as $k => $v) $lines[] = "$k: $v";
            $ctx = stream_context_create(['http' => ['method' => 'POST', 'header' => implode("\r\n", $lines),
                                                     'content' => $options['body'] ?? '', 'ignore_errors' => true,
                                                     'timeout' => 10]]);
            $text = @file_get_contents($url, false, $ctx);
            if ($text === false) throw new Exception\TransferException("POST $url failed");
            return new Response($text);
        }
    }
}

namespace Illuminate\Http {
    // Laravel's Request: all() is the query and the (form or JSON) body.
    class Request {
        public function all() {
            $body = $_POST;
            if (stripos($_SERVER['CONTENT_TYPE'] ?? '', 'application/json') !== false)
                $body = json_decode(file_get_contents('php://input'), true) ?: [];
            return array_merge($_GET, $body);
        }
        public function get($key, $default = null) { return $this->all()[$key] ?? $default; }
    }
}

namespace App\Http\Controllers {
    function orders_load() { $f = getenv('SHOP_STATE'); return is_file($f) ? json_decode(file_get_contents($f), true) : []; }
    function orders_save($orders) { file_put_contents(getenv('SHOP_STATE'), json_encode($orders), LOCK_EX); }

    // The two gateways of dujiaoka's pays table, as configured in the admin.
    function gateways() {
        return [
            1 => (object)['id' => 1, 'pay_check' => 'usdt.local', 'merchant_id' => getenv('MERCHANT_PID'),
                          'merchant_key' => getenv('YIPAY_URL'), 'merchant_pem' => getenv('MERCHANT_KEY'),
                          'pay_handleroute' => '/pay/yipay'],
            2 => (object)['id' => 2, 'pay_check' => 'epusdt', 'merchant_id' => getenv('MERCHANT_KEY'),
                          'merchant_key' => '', 'merchant_pem' => getenv('EPUSDT_URL'),
                          'pay_handleroute' => 'pay/epusdt'],
        ];
    }

    class OrderService {
        public function detailOrderSN($sn) { $o = orders_load()[$sn] ?? null; return $o ? (object)$o : null; }
    }
    class PayService {
        public function detail($id) { return gateways()[$id] ?? null; }
    }
    class OrderProcessService {
        public function completedOrder(string $sn, $amount, $tradeNo = '') {
            $orders = orders_load();
            $orders[$sn]['status'] = 4;  // completed
            $orders[$sn]['paid_amount'] = $amount;
            $orders[$sn]['trade_no'] = $tradeNo;
            orders_save($orders);
        }
    }

    class PayController {
        protected $order;
        protected $payGateway;
        protected $orderService;
        protected $payService;
        protected $orderProcessService;

        public function __construct() {
            $this->orderService = new OrderService();
            $this->payService = new PayService();
            $this->orderProcessService = new OrderProcessService();
        }

        // dujiaoka's loadGateWay: the order and the gateway it is paid with.
        public function loadGateWay(string $orderSN, string $payCheck) {
            $this->order = $this->orderService->detailOrderSN($orderSN);
            if (!$this->order) throw new \App\Exceptions\RuleValidationException('order not found');
            $this->payGateway = $this->payService->detail($this->order->pay_id);
            if (!$this->payGateway || $this->payGateway->pay_check !== $payCheck)
                throw new \App\Exceptions\RuleValidationException('pay gateway not found');
        }

        protected function err($message) { http_response_code(500); return "error: $message"; }
    }
}

namespace {
    error_reporting(E_ALL & ~E_DEPRECATED);
    ini_set('display_errors', 'stderr');

    function base_url() { return 'http://' . $_SERVER['HTTP_HOST']; }
    function url($path = '', $params = []) {
        if ($path === 'detail-order-sn') return base_url() . '/detail-order-sn/' . $params['orderSN'];
        return base_url() . '/' . ltrim($path, '/');
    }
    function route($name, $params = []) {
        $paths = ['yipay-return' => '/pay/yipay/return_url', 'epusdt-return' => '/pay/epusdt/return_url'];
        return base_url() . $paths[$name] . ($params ? '?' . http_build_query($params) : '');
    }
    class Redirect {
        public function __construct(public $to = null) {}
        public function away($to) { return new Redirect($to); }
    }
    function redirect($to = null) { return new Redirect($to); }

    require __DIR__ . '/app/Http/Controllers/Pay/YipayController.php';
    require __DIR__ . '/app/Http/Controllers/Pay/EpusdtController.php';

    function answer($result) {
        if ($result instanceof Redirect) {
            header('Location: ' . $result->to, true, 302);
            return;
        }
        echo $result;
    }

    $path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
    $method = $_SERVER['REQUEST_METHOD'];
    $request = new \Illuminate\Http\Request();

    if ($path === '/_test/order' && $method === 'POST') {  // an order waiting for payment
        $orders = App\Http\Controllers\orders_load();
        $orders[$_POST['order_sn']] = ['order_sn' => $_POST['order_sn'], 'actual_price' => $_POST['actual_price'],
                                       'pay_id' => (int)$_POST['pay_id'], 'status' => 1];
        App\Http\Controllers\orders_save($orders);
        echo 'ok';
    } elseif (preg_match('#^/_test/order/(.+)$#', $path, $m)) {
        header('Content-Type: application/json');
        echo json_encode(App\Http\Controllers\orders_load()[urldecode($m[1])] ?? null);
    } elseif ($method === 'GET' && preg_match('#^/pay/yipay/notify_url$#', $path)) {
        answer((new App\Http\Controllers\Pay\YipayController())->notifyUrl($request));
    } elseif ($method === 'GET' && $path === '/pay/yipay/return_url') {
        answer((new App\Http\Controllers\Pay\YipayController())->returnUrl($request));
    } elseif ($method === 'GET' && preg_match('#^/pay/yipay/([^/]+)/([^/]+)$#', $path, $m)) {
        answer((new App\Http\Controllers\Pay\YipayController())->gateway(urldecode($m[1]), urldecode($m[2])));
    } elseif ($method === 'POST' && $path === '/pay/epusdt/notify_url') {
        answer((new App\Http\Controllers\Pay\EpusdtController())->notifyUrl($request));
    } elseif ($method === 'GET' && $path === '/pay/epusdt/return_url') {
        answer((new App\Http\Controllers\Pay\EpusdtController())->returnUrl($request));
    } elseif ($method === 'GET' && preg_match('#^/pay/epusdt/([^/]+)/([^/]+)$#', $path, $m)) {
        answer((new App\Http\Controllers\Pay\EpusdtController())->gateway(urldecode($m[1]), urldecode($m[2])));
    } elseif (preg_match('#^/detail-order-sn/(.+)$#', $path, $m)) {
        // The order page the return URL leads to.
        $o = App\Http\Controllers\orders_load()[urldecode($m[1])] ?? null;
        header('Content-Type: text/html; charset=utf-8');
        echo $o ? '<h1 id="order">' . htmlspecialchars($o['order_sn']) . '</h1><p id="status">' .
                  ($o['status'] === 4 ? 'completed' : 'waiting') . '</p>' : 'no such order';
    } else {
        http_response_code(404);
        echo 'no route';
    }
}
