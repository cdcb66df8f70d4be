<?php
// A stand-in for SSPanel-UIM's Slim app around its real EPay gateway
// (src/Services/Gateway/Epay.php and Epay/EpayNotify.php, EpaySubmit.php,
// EpayTool.php, unchanged): the gateway base class, Config::obtain, the
// Paylist model, Auth, AntiXSS and Slim's request/response, with the
// paylist in a JSON file instead of MySQL. Run by
// tests/integration/test_shops.py under `php -S 127.0.0.1:PORT shop.php`.
//
//   POST /user/payment/purchase/epay   price, invoice_id, type -> the auto-submitting EPay form
//   GET  /payment/notify/epay          the notify (SSPanel verifies $_GET only)
//   GET  /user/payment/return/epay     the return page ("你已成功充值 N 元")
//   GET  /_test/paylist/{tradeno}      the paylist row as stored (status 0 unpaid, 1 paid)

namespace Psr\Http\Message {
    interface ResponseInterface {}
}

namespace Slim\Http {
    class ServerRequest {
        public function getParam($key, $default = null) { return $_POST[$key] ?? $_GET[$key] ?? $default; }
    }
    class Response implements \Psr\Http\Message\ResponseInterface {
        public string $body = '';
        public string $type = 'text/html; charset=utf-8';
        public function write($text) { $this->body .= $text; return $this; }
        public function withJson($data) { $this->type = 'application/json'; $this->body = json_encode($data); return $this; }
    }
}

namespace voku\helper {
    class AntiXSS { public function xss_clean($s) { return is_string($s) ? strip_tags($s) : $s; } }
}

namespace App\Models {
    function paylist_load() { $f = getenv('SHOP_STATE'); return is_file($f) ? json_decode(file_get_contents($f), true) : []; }
    function paylist_save($rows) { file_put_contents(getenv('SHOP_STATE'), json_encode($rows), LOCK_EX); }

    // The admin settings of the EPay gateway (docs/merchant.md).
    class Config {
        public static function obtain($item) {
            return ['epay_url' => getenv('EPAY_URL'), 'epay_pid' => getenv('EPAY_PID'), 'epay_key' => getenv('EPAY_KEY'),
                    'epay_sign_type' => 'md5'][$item];
        }
    }
    class Paylist {
        public $userid, $total, $invoice_id, $tradeno, $gateway, $status = 0, $datetime = 0;
        public function save() {
            $rows = paylist_load();
            $rows[$this->tradeno] = get_object_vars($this);
            paylist_save($rows);
        }
    }
}

namespace App\Services {
    class Auth { public static function getUser() { return (object)['id' => 1]; } }
    class View { public static function getSmarty() { return null; } }
}

namespace App\Services\Gateway {
    // SSPanel's Base, reduced to what Epay uses.
    abstract class Base {
        protected $antiXss;
        public static function generateGuid(): string { return 'SSP' . bin2hex(random_bytes(8)); }
        public static function getActiveGateway($key): bool { return true; }
        public function postPayment($trade_no): void {
            $rows = \App\Models\paylist_load();
            if (($rows[$trade_no]['status'] ?? null) === 0) {
                $rows[$trade_no]['status'] = 1;
                $rows[$trade_no]['datetime'] = time();
                \App\Models\paylist_save($rows);
            }
        }
    }
}

namespace {
    error_reporting(E_ALL & ~E_DEPRECATED);
    ini_set('display_errors', 'stderr');
    $_ENV['baseUrl'] = 'http://' . $_SERVER['HTTP_HOST'];
    $_ENV['appName'] = 'SSPanel test';

    require __DIR__ . '/src/Services/Gateway/Epay/EpayTool.php';
    require __DIR__ . '/src/Services/Gateway/Epay/EpaySubmit.php';
    require __DIR__ . '/src/Services/Gateway/Epay/EpayNotify.php';
    require __DIR__ . '/src/Services/Gateway/Epay.php';

    function send(Slim\Http\Response $r) {
        header('Content-Type: ' . $r->type);
        echo $r->body;
    }

    $path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
    $request = new Slim\Http\ServerRequest();
    if ($path === '/user/payment/purchase/epay' && $_SERVER['REQUEST_METHOD'] === 'POST') {
        send((new App\Services\Gateway\Epay())->purchase($request, new Slim\Http\Response(), []));
    } elseif ($path === '/payment/notify/epay') {
        send((new App\Services\Gateway\Epay())->notify($request, new Slim\Http\Response(), []));
    } elseif ($path === '/user/payment/return/epay') {
        send((new App\Services\Gateway\Epay())->getReturnHTML($request, new Slim\Http\Response(), []));
    } elseif (preg_match('#^/_test/paylist/(.+)$#', $path, $m)) {
        header('Content-Type: application/json');
        echo json_encode(App\Models\paylist_load()[urldecode($m[1])] ?? null);
    } elseif ($path === '/_test/paylist') {
        header('Content-Type: application/json');
        echo json_encode(array_values(App\Models\paylist_load()));
    } else {
        http_response_code(404);
        echo 'no route';
    }
}
