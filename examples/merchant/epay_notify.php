<?php
// A minimal EPay notify receiver for depositd (docs/merchant.md).
//
// depositd calls notify_url with GET when an order completes:
//   ?pid&trade_no&out_trade_no&type&name&money&trade_status=TRADE_SUCCESS[&param]&sign&sign_type=MD5
// sign = md5 of the non-empty parameters except sign and sign_type, sorted by
// name, joined as k=v with "&", with your merchant key appended directly.
// Answer "success" once you have recorded the payment; anything else makes
// depositd retry on its schedule. Deliveries repeat (at least once): make
// marking an order paid idempotent.
//
// Try it: EPAY_KEY=... php -S 127.0.0.1:9000 epay_notify.php

$key = getenv('EPAY_KEY');
if ($key === false || $key === '') {
    http_response_code(500);
    exit('EPAY_KEY is not set');
}

$params = $_GET;                      // the notify is a GET: only the query counts
$sign = strtolower((string)($params['sign'] ?? ''));
unset($params['sign'], $params['sign_type']);
$params = array_filter($params, fn($v) => is_string($v) && $v !== '');
ksort($params, SORT_STRING);
$pairs = [];
foreach ($params as $k => $v) {
    $pairs[] = $k . '=' . $v;         // not URL-encoded
}
$expected = md5(implode('&', $pairs) . $key);

if (!hash_equals($expected, $sign)) {  // constant time
    http_response_code(400);
    exit('fail: bad sign');
}
if (($params['trade_status'] ?? '') !== 'TRADE_SUCCESS') {
    http_response_code(400);
    exit('fail: not paid');
}

// Here: look the order up by $params['out_trade_no'], check $params['money']
// is what you asked for, mark it paid (once), then answer:
error_log(sprintf('paid: %s (%s) money %s', $params['out_trade_no'], $params['trade_no'], $params['money']));
echo 'success';
