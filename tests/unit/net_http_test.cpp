// HttpClient against a real local server (127.0.0.1, port 0).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "net/http_client.hpp"
#include "net_test_server.hpp"

using namespace depositd;
using namespace depositd::net;
using nettest::Reply;
using nettest::Seen;
using nettest::Server;
namespace asio = boost::asio;

namespace {

Result<HttpResponse> get(asio::io_context& ioc, HttpClient& c, HttpRequest req) {
    return nettest::run(ioc, c.request(std::move(req)));
}

HttpRequest post(const std::string& url, std::string body = "{}") {
    HttpRequest r;
    r.url = url;
    r.body = std::move(body);
    r.timeout = std::chrono::seconds(10);
    return r;
}

}  // namespace

TEST(NetHttp, KeepAliveReusesOneConnection) {
    Server srv([](const Seen& s) { return Reply{200, "{\"echo\":" + std::to_string(s.body.size()) + "}"}; });
    asio::io_context ioc;
    HttpClient client(ioc.get_executor());
    for (int i = 0; i < 5; ++i) {
        auto r = get(ioc, client, post(srv.url("/rpc?x=1"), "{\"a\":1}"));
        ASSERT_TRUE(r.ok()) << r.error().describe();
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, "{\"echo\":7}");
        EXPECT_EQ(r->header("content-type"), "application/json");
        EXPECT_GE(r->latency.count(), 0);
    }
    EXPECT_EQ(srv.requests(), 5);
    EXPECT_EQ(srv.connections(), 1);
    auto seen = srv.seen();
    EXPECT_EQ(seen[0].target, "/rpc?x=1");
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].headers["host"], "127.0.0.1:" + std::to_string(srv.port()));
    EXPECT_EQ(seen[0].headers["content-type"], "application/json");
}

TEST(NetHttp, ConnectionCloseIsNotReused) {
    Server srv([](const Seen&) {
        Reply r{200, "{}"};
        r.close = true;
        return r;
    });
    asio::io_context ioc;
    HttpClient client(ioc.get_executor());
    for (int i = 0; i < 3; ++i) {
        auto r = get(ioc, client, post(srv.url()));
        ASSERT_TRUE(r.ok()) << r.error().describe();
    }
    EXPECT_EQ(srv.connections(), 3);
}

TEST(NetHttp, StaleKeepAliveIsRetriedOnAFreshConnection) {
    // The server answers as keep-alive, then closes the socket: the client's
    // idle connection is stale, the next request must transparently reconnect.
    Server srv([](const Seen&) {
        Reply r{200, "{\"ok\":true}"};
        r.close_after = true;
        return r;
    });
    asio::io_context ioc;
    HttpClient client(ioc.get_executor());
    for (int i = 0; i < 3; ++i) {
        auto first = get(ioc, client, post(srv.url()));
        ASSERT_TRUE(first.ok()) << first.error().describe();
        // Give the server time to close so the pooled connection is stale.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(srv.requests(), 3);
    EXPECT_EQ(srv.connections(), 3);
}

TEST(NetHttp, MaxIdleZeroDisablesReuse) {
    Server srv([](const Seen&) { return Reply{200, "{}"}; });
    asio::io_context ioc;
    HttpClientOptions o;
    o.max_idle_per_host = 0;
    HttpClient client(ioc.get_executor(), o);
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(get(ioc, client, post(srv.url())).ok());
    EXPECT_EQ(srv.connections(), 2);
}

TEST(NetHttp, DeadlineOnServerThatNeverAnswers) {
    Server srv([](const Seen&) {
        Reply r;
        r.hang = true;
        return r;
    });
    asio::io_context ioc;
    HttpClient client(ioc.get_executor());
    auto req = post(srv.url());
    req.timeout = std::chrono::milliseconds(300);
    auto t0 = std::chrono::steady_clock::now();
    auto r = get(ioc, client, req);
    auto elapsed = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::transport);
    EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
    EXPECT_GE(elapsed, std::chrono::milliseconds(250));
    EXPECT_LT(elapsed, std::chrono::seconds(30));
    // The timed-out connection was not pooled: the next request opens a new one.
    EXPECT_EQ(srv.connections(), 1);
}

// A body of `n` bytes whose every KiB is one letter: 'a' * 1024, 'b' * 1024, ...
std::string pattern_body(std::size_t n) {
    std::string s(n, ' ');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i / 1024) % 26);
    return s;
}

TEST(NetHttp, OversizeBodyKeepsTheCapAndTheStatus) {
    const std::string big = pattern_body(100'000);
    Server srv([&](const Seen&) { return Reply{200, big}; });
    asio::io_context ioc;
    HttpClient client(ioc.get_executor());
    auto req = post(srv.url());
    req.max_response_bytes = 10'000;
    auto r = get(ioc, client, req);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(r->truncated);
    EXPECT_EQ(r->body, big.substr(0, 10'000));
    // The rest was not read: that connection is not reused.
    req.max_response_bytes = 200'000;
    auto ok = get(ioc, client, req);
    ASSERT_TRUE(ok.ok()) << ok.error().describe();
    EXPECT_FALSE(ok->truncated);
    EXPECT_EQ(ok->body, big);
    EXPECT_EQ(srv.connections(), 2);
    // Exactly at the cap is not truncated, and the connection is kept.
    req.max_response_bytes = 100'000;
    auto exact = get(ioc, client, req);
    ASSERT_TRUE(exact.ok()) << exact.error().describe();
    EXPECT_FALSE(exact->truncated);
    EXPECT_EQ(exact->body.size(), 100'000u);
    EXPECT_EQ(srv.connections(), 2);
}

TEST(NetHttp, HugeBodyIsCutWithoutReadingItAll) {
    // 64 MiB announced and sent: only the first 64 KiB are read (and kept).
    const std::string huge(64u << 20, 'z');
    Server srv([&](const Seen&) { return Reply{500, huge}; });
    asio::io_context ioc;
    HttpClient client(ioc.get_executor());
    auto req = post(srv.url());
    req.max_response_bytes = 64 * 1024;
    auto r = get(ioc, client, req);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->status, 500);
    EXPECT_TRUE(r->truncated);
    EXPECT_EQ(r->body.size(), 64u * 1024);
}

TEST(NetHttp, ConnectionRefusedIsTransport) {
    asio::io_context ioc;
    HttpClient client(ioc.get_executor());
    auto r = get(ioc, client, post("http://127.0.0.1:" + std::to_string(nettest::closed_port()) + "/"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::transport);
}

TEST(NetHttp, ServerDropWithoutAnswerIsTransport) {
    Server srv([](const Seen&) {
        Reply r;
        r.drop = true;
        return r;
    });
    asio::io_context ioc;
    HttpClient client(ioc.get_executor());
    auto r = get(ioc, client, post(srv.url()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::transport);
}

TEST(NetHttp, AnyStatusIsAResponseWithHeaders) {
    Server srv([](const Seen&) {
        Reply r{503, "busy"};
        r.headers = {{"Retry-After", "7"}, {"X-Thing", "abc"}};
        return r;
    });
    asio::io_context ioc;
    HttpClient client(ioc.get_executor());
    auto r = get(ioc, client, post(srv.url()));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(r->body, "busy");
    EXPECT_EQ(r->header("retry-after"), "7");
    EXPECT_EQ(r->header("X-THING"), "abc");
    EXPECT_EQ(r->header("absent"), "");
}

TEST(NetHttp, CustomHeadersAndBasicAuthFromUrl) {
    Server srv([](const Seen&) { return Reply{200, "{}"}; });
    asio::io_context ioc;
    HttpClient client(ioc.get_executor());
    auto req = post("http://user:pa%3Ass@127.0.0.1:" + std::to_string(srv.port()) + "/");
    req.headers = {{"X-Api-Key", "k1"}, {"Content-Type", "text/plain"}};
    ASSERT_TRUE(get(ioc, client, req).ok());
    auto s = srv.seen().at(0);
    EXPECT_EQ(s.headers["x-api-key"], "k1");
    EXPECT_EQ(s.headers["content-type"], "text/plain");
    EXPECT_EQ(s.headers["authorization"], "Basic dXNlcjpwYTpzcw==");  // user:pa:ss
}

// The client writes each request itself, in one buffer: the fields Beast's
// serializer wrote, no others, and Content-Length as prepare_payload() set
// it (none for an empty GET, 0 for an empty POST).
TEST(NetHttp, RequestsCarryTheirFieldsOnce) {
    Server srv([](const Seen&) { return Reply{200, "{}"}; });
    asio::io_context ioc;
    HttpClient client(ioc.get_executor());
    HttpRequest get_req = post(srv.url("/a?b=c"), "");
    get_req.method = "GET";
    get_req.headers = {{"user-agent", "merchant-probe/1"}, {"X-Api-Key", "k1"}, {"x-api-key", "k2"}};
    ASSERT_TRUE(get(ioc, client, get_req).ok());
    ASSERT_TRUE(get(ioc, client, post(srv.url(), "")).ok());
    ASSERT_TRUE(get(ioc, client, post(srv.url(), "{\"a\":1}")).ok());
    auto seen = srv.seen();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0].method, "GET");
    EXPECT_EQ(seen[0].target, "/a?b=c");
    EXPECT_EQ(seen[0].headers["user-agent"], "merchant-probe/1");  // the caller's replaces the default
    EXPECT_EQ(seen[0].headers["x-api-key"], "k2");                 // the later of one name wins
    EXPECT_EQ(seen[0].headers.count("content-length"), 0u);
    EXPECT_EQ(seen[0].headers.count("content-type"), 0u);
    EXPECT_EQ(seen[0].fields, 3u) << "Host, User-Agent, X-Api-Key";
    EXPECT_EQ(seen[1].headers["content-length"], "0");
    EXPECT_EQ(seen[1].headers.count("content-type"), 0u);
    EXPECT_EQ(seen[1].fields, 3u) << "Host, User-Agent, Content-Length";
    EXPECT_EQ(seen[2].headers["content-length"], "7");
    EXPECT_EQ(seen[2].headers["content-type"], "application/json");
    EXPECT_EQ(seen[2].body, "{\"a\":1}");
    EXPECT_EQ(seen[2].fields, 4u);
    EXPECT_EQ(srv.connections(), 1);
}

// A header that would add lines to the request (CR, LF), a name that is not
// a token, and the fields the client itself owns are refused before anything
// is sent.
TEST(NetHttp, HeadersThatCouldSplitTheRequestAreRefused) {
    Server srv([](const Seen&) { return Reply{200, "{}"}; });
    asio::io_context ioc;
    HttpClient client(ioc.get_executor());
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"X-Key", "k\r\nX-Injected: 1"}, {"X-Key", "k\nX: 1"}, {"X-Key", std::string("k\0x", 3)},
        {"X Key", "k"},  {"X-Key:", "k"},  {"", "k"},
        {"Content-Length", "0"}, {"transfer-encoding", "chunked"}, {"Connection", "close"},
    };
    for (const auto& [name, value] : bad) {
        auto req = post(srv.url());
        req.headers = {{name, value}};
        auto r = get(ioc, client, req);
        ASSERT_FALSE(r.ok()) << name;
        EXPECT_EQ(r.error().code, Errc::invalid_input) << name;
        EXPECT_EQ(r.error().message.find("Injected"), std::string::npos) << "the value is not echoed";
    }
    EXPECT_EQ(srv.requests(), 0);
}

// Every separator RFC 9110 excludes from a token, controls, DEL and bytes
// past ASCII are refused in a name; every other visible character passes
// (the check is a table: each entry of it is looked at here).
TEST(NetHttp, HeaderNamesAreTokensExactly) {
    Server srv([](const Seen&) { return Reply{200, "{}"}; });
    asio::io_context ioc;
    HttpClient client(ioc.get_executor());
    std::string refused = "\"(),/:;<=>?@[\\]{} \t\x7f\x01";
    refused.push_back('\x80');
    refused.push_back('\xff');
    for (char c : refused) {
        auto req = post(srv.url());
        req.headers = {{std::string("X-") + c, "v"}};
        auto r = get(ioc, client, req);
        ASSERT_FALSE(r.ok()) << static_cast<int>(static_cast<unsigned char>(c));
        EXPECT_EQ(r.error().code, Errc::invalid_input);
    }
    EXPECT_EQ(srv.requests(), 0);
    const std::string every_token_char = "X-!#$%&'*+-.^_`|~09AZaz";
    auto req = post(srv.url());
    req.headers = {{every_token_char, "a value with spaces, \"quotes\" and \t tabs"}};
    auto r = get(ioc, client, req);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    ASSERT_EQ(srv.requests(), 1);
    EXPECT_EQ(srv.seen()[0].headers["x-!#$%&'*+-.^_`|~09azaz"], "a value with spaces, \"quotes\" and \t tabs");
}

// A URL is parsed once and kept: a later request to it under the public-only
// rule still refuses a loopback address (and uses no connection pooled
// without the rule), and a plain request after a public-only one still goes.
TEST(NetHttp, KeptUrlsKeepThePublicOnlyRuleApart) {
    Server srv([](const Seen&) { return Reply{200, "{}"}; });
    asio::io_context ioc;
    HttpClient client(ioc.get_executor());
    auto plain = get(ioc, client, post(srv.url("/notify")));
    ASSERT_TRUE(plain.ok()) << plain.error().describe();
    auto req = post(srv.url("/notify"));
    req.public_only = true;
    auto refused = get(ioc, client, req);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, Errc::transport);
    EXPECT_NE(refused.error().message.find("only public addresses"), std::string::npos) << refused.error().message;
    auto again = get(ioc, client, post(srv.url("/notify")));
    ASSERT_TRUE(again.ok()) << again.error().describe();
    EXPECT_EQ(srv.requests(), 2);
    EXPECT_EQ(srv.connections(), 1);
}

TEST(NetHttp, BadUrlsAreInvalidInput) {
    asio::io_context ioc;
    HttpClient client(ioc.get_executor());
    for (int round = 0; round < 2; ++round)  // the second time too: a bad URL is never kept
        for (const char* u : {"not a url", "ftp://127.0.0.1/", "http:///path"}) {
            auto r = get(ioc, client, post(u));
            ASSERT_FALSE(r.ok()) << u;
            EXPECT_EQ(r.error().code, Errc::invalid_input) << u;
        }
}

TEST(NetHttp, RetryAfterParsing) {
    const std::int64_t now = 784111777000;  // Sun, 06 Nov 1994 08:49:37 GMT
    EXPECT_EQ(retry_after_ms("3", now), 3000);
    EXPECT_EQ(retry_after_ms(" 0 ", now), 0);
    EXPECT_EQ(retry_after_ms("Sun, 06 Nov 1994 08:49:47 GMT", now), 10'000);
    EXPECT_EQ(retry_after_ms("Sun, 06 Nov 1994 08:50:37 GMT", now), 60'000);
    EXPECT_EQ(retry_after_ms("Sun, 06 Nov 1994 08:49:00 GMT", now), 0);  // in the past
    EXPECT_EQ(retry_after_ms("Thu, 01 Jan 1970 00:00:00 GMT", now), 0);
    EXPECT_EQ(retry_after_ms("Thu, 29 Feb 2024 00:00:30 GMT", 1709164800000), 30'000);  // a leap day
    EXPECT_EQ(retry_after_ms("", now), -1);
    EXPECT_EQ(retry_after_ms("soon", now), -1);
    EXPECT_EQ(retry_after_ms("-5", now), -1);
    EXPECT_EQ(retry_after_ms("1.5", now), -1);
    EXPECT_EQ(retry_after_ms("1e9", now), -1);
}

TEST(NetHttp, RetryAfterIsBoundedAndOverflowSafe) {
    const std::int64_t now = 784111777000;
    // The node bound: a proxy's day-long pause becomes 10 minutes.
    EXPECT_EQ(kMaxNodeRetryAfterMs, 600'000);
    EXPECT_EQ(retry_after_ms("86400", now, kMaxNodeRetryAfterMs), 600'000);
    EXPECT_EQ(retry_after_ms("599", now, kMaxNodeRetryAfterMs), 599'000);
    EXPECT_EQ(retry_after_ms("600", now, kMaxNodeRetryAfterMs), 600'000);
    EXPECT_EQ(retry_after_ms("601", now, kMaxNodeRetryAfterMs), 600'000);
    // 9 digits of seconds and far more: the bound, never an overflow.
    EXPECT_EQ(retry_after_ms("999999999", now, kMaxNodeRetryAfterMs), 600'000);
    EXPECT_EQ(retry_after_ms("99999999999999999999999999999999", now, kMaxNodeRetryAfterMs), 600'000);
    EXPECT_EQ(retry_after_ms("00000000000000000000000000000007", now, kMaxNodeRetryAfterMs), 7'000);
    // Without a caller's bound: at most 24 h.
    EXPECT_EQ(retry_after_ms("86400", now), 86'400'000);
    EXPECT_EQ(retry_after_ms("999999999", now), kMaxRetryAfterMs);
    // Dates: year 9999 and the far future read as the bound.
    EXPECT_EQ(retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", now, kMaxNodeRetryAfterMs), 600'000);
    EXPECT_EQ(retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", now), kMaxRetryAfterMs);
    EXPECT_EQ(retry_after_ms("Sun, 06 Nov 1994 09:49:37 GMT", now, kMaxNodeRetryAfterMs), 600'000);
    // A wait below the bound is kept; a bound above 24 h is 24 h.
    EXPECT_EQ(retry_after_ms("Sun, 06 Nov 1994 08:54:37 GMT", now, kMaxNodeRetryAfterMs), 300'000);
    EXPECT_EQ(retry_after_ms("999999999", now, 1LL << 62), kMaxRetryAfterMs);
    // Garbage in the date form is no Retry-After at all.
    for (const char* bad : {"Sun, 06 Nov 99999999999 08:49:47 GMT", "Sun, 06 Nov 1994 08:49:47 UTC",
                            "Sun, 32 Nov 1994 08:49:47 GMT", "Fri, 30 Feb 2024 00:00:00 GMT",
                            "Thu, 29 Feb 2023 00:00:00 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                            "Sun, 06 Nov 1994 08:60:00 GMT", "Xyz, 06 Nov 1994 08:49:47 GMT",
                            "Sun, 06 Foo 1994 08:49:47 GMT", "Sun, 6 Nov 1994 08:49:47 GMT",
                            "Sun, 06 Nov -994 08:49:47 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                            "Sun, 06 Nov 1994 08:49:47 GMT trailing", "Sun, 06 Nov 1994 08:49:47 GMT\r\nX: y"})
        EXPECT_EQ(retry_after_ms(bad, now, kMaxNodeRetryAfterMs), -1) << bad;
}

// ---- TLS with a certificate generated at test time (openssl CLI) ----

namespace {

struct TlsFiles {
    std::filesystem::path dir, cert, key;
    bool ok = false;
};

TlsFiles make_cert(const std::string& san) {
    TlsFiles f;
    f.dir = std::filesystem::temp_directory_path() /
            ("depositd-net-tls-" + std::to_string(::getpid()) + "-" + std::to_string(std::hash<std::string>{}(san)));
    std::filesystem::create_directories(f.dir);
    f.cert = f.dir / "cert.pem";
    f.key = f.dir / "key.pem";
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=depositd-test -keyout '" +
                      f.key.string() + "' -out '" + f.cert.string() + "' -addext 'subjectAltName=" + san +
                      "' >/dev/null 2>&1";
    f.ok = std::system(cmd.c_str()) == 0 && std::filesystem::exists(f.cert);
    return f;
}

std::unique_ptr<asio::ssl::context> server_ctx(const TlsFiles& f) {
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->use_certificate_chain_file(f.cert.string());
    ctx->use_private_key_file(f.key.string(), asio::ssl::context::pem);
    return ctx;
}

}  // namespace

TEST(NetHttp, TlsVerifiesPeerAndHostName) {
    TlsFiles good = make_cert("IP:127.0.0.1,DNS:localhost");
    TlsFiles wrong = make_cert("DNS:other.example");
    if (!good.ok || !wrong.ok) GTEST_SKIP() << "openssl CLI not available";

    auto gctx = server_ctx(good);
    Server srv([](const Seen&) { return Reply{200, "{\"tls\":true}"}; }, gctx.get());
    asio::io_context ioc;

    {  // Trusted through ca_file, SAN matches the IP: OK, and keep-alive over TLS.
        HttpClientOptions o;
        o.ca_file = good.cert.string();
        HttpClient client(ioc.get_executor(), o);
        for (int i = 0; i < 2; ++i) {
            auto r = get(ioc, client, post(srv.url()));
            ASSERT_TRUE(r.ok()) << r.error().describe();
            EXPECT_EQ(r->body, "{\"tls\":true}");
        }
        EXPECT_EQ(srv.connections(), 1);
    }
    {  // Not in the trust store: refused.
        HttpClient client(ioc.get_executor());
        auto r = get(ioc, client, post(srv.url()));
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, Errc::transport);
        EXPECT_NE(r.error().message.find("TLS"), std::string::npos) << r.error().message;
    }
    {  // Trusted, but the certificate names another host: refused.
        auto wctx = server_ctx(wrong);
        Server other([](const Seen&) { return Reply{200, "{}"}; }, wctx.get());
        HttpClientOptions o;
        o.ca_file = wrong.cert.string();
        HttpClient client(ioc.get_executor(), o);
        auto r = get(ioc, client, post(other.url()));
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, Errc::transport);
        // verify_tls = false (tests only) accepts it.
        o.verify_tls = false;
        HttpClient lax(ioc.get_executor(), o);
        EXPECT_TRUE(get(ioc, lax, post(other.url())).ok());
    }
    std::filesystem::remove_all(good.dir);
    std::filesystem::remove_all(wrong.dir);
}

// A request goes out as its head and the caller's body in one gather write:
// a body larger than a socket's send buffer (the write completes in parts
// that end inside the head, the body, or between them) arrives whole and in
// order, on plain TCP and through TLS (where head and body are joined first:
// as two buffers, a body over 16 KiB stalled); an empty body adds nothing.
TEST(NetHttp, HeadAndBodyArriveWholeInOneGatherWrite) {
    TlsFiles tls = make_cert("IP:127.0.0.1");
    if (!tls.ok) GTEST_SKIP() << "openssl CLI not available";
    auto tctx = server_ctx(tls);
    std::string big(1'000'000, ' ');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7919) % 26);
    for (asio::ssl::context* server_tls : {static_cast<asio::ssl::context*>(nullptr), tctx.get()}) {
        Server srv([](const Seen&) { return Reply{200, "{}"}; }, server_tls);
        asio::io_context ioc;
        HttpClientOptions o;
        o.ca_file = tls.cert.string();
        HttpClient client(ioc.get_executor(), o);
        for (const std::string& body : {big, std::string("{}"), std::string()}) {
            auto r = get(ioc, client, post(srv.url(), body));
            ASSERT_TRUE(r.ok()) << r.error().describe() << " (a body of " << body.size() << " bytes"
                                << (server_tls ? ", TLS)" : ")");
        }
        auto seen = srv.seen();
        ASSERT_EQ(seen.size(), 3u);
        EXPECT_EQ(seen[0].headers["content-length"], std::to_string(big.size()));
        EXPECT_TRUE(seen[0].body == big) << "the body arrived changed (" << seen[0].body.size() << " bytes)";
        EXPECT_EQ(seen[1].body, "{}");
        EXPECT_EQ(seen[2].headers["content-length"], "0");
        EXPECT_EQ(seen[2].body, "");
        EXPECT_EQ(srv.connections(), 1) << "one keep-alive connection: every request was framed exactly";
    }
    std::filesystem::remove_all(tls.dir);
}
