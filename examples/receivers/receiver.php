<?php
// depositd webhook receiver in plain PHP.
//
// php://input is the raw body; never verify a re-encoded json_decode() result.
//
//   DEPOSITD_WEBHOOK_SECRET=whsec_... php -S 127.0.0.1:8000 receiver.php

const TOLERANCE_SECONDS = 300;

function depositd_verify(string $secret, string $msgId, string $timestamp, string $signatureHeader, string $body): bool
{
    if (!ctype_digit($timestamp) || abs(time() - (int)$timestamp) > TOLERANCE_SECONDS) {
        return false;
    }
    if (str_starts_with($secret, 'whsec_')) {
        $secret = substr($secret, 6);
    }
    $key = base64_decode($secret, true);
    if ($key === false) {
        return false;
    }
    $expected = base64_encode(hash_hmac('sha256', $msgId . '.' . $timestamp . '.' . $body, $key, true));
    foreach (explode(' ', $signatureHeader) as $candidate) {
        $parts = explode(',', $candidate, 2);
        if (count($parts) === 2 && $parts[0] === 'v1' && hash_equals($expected, $parts[1])) {
            return true;
        }
    }
    return false;
}

if ($_SERVER['REQUEST_METHOD'] !== 'POST' || parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) !== '/webhooks/deposits') {
    http_response_code(404);
    exit;
}
$body = file_get_contents('php://input');
$ok = depositd_verify(
    getenv('DEPOSITD_WEBHOOK_SECRET') ?: '',
    $_SERVER['HTTP_WEBHOOK_ID'] ?? '',
    $_SERVER['HTTP_WEBHOOK_TIMESTAMP'] ?? '',
    $_SERVER['HTTP_WEBHOOK_SIGNATURE'] ?? '',
    $body
);
if (!$ok) {
    http_response_code(400);
    echo 'bad signature';
    exit;
}
$event = json_decode($body, true);
// Delivery is at least once: make this idempotent on $event['id'].
error_log('received ' . $event['id'] . ' ' . $event['type']);
http_response_code(204);
