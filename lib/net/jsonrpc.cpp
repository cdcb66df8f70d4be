// JSON-RPC 2.0 (single and batch) and REST-style JSON POSTs over HttpClient,
// with retry (exponential backoff, full jitter, Retry-After), failover across
// endpoints and a per-endpoint request-rate cap.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive on Asio's coroutine frame allocator (GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "net/jsonrpc.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <functional>
#include <mutex>
#include <random>
#include <unordered_map>

#include "core/log.hpp"
#include "core/metrics.hpp"

namespace depositd::net {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr const char* kLatency = "depositd_rpc_request_seconds";
constexpr const char* kErrors = "depositd_rpc_errors_total";

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

// "0x1a2B" or a decimal JSON number -> value; -1 when not a quantity.
long long parse_quantity(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s.remove_prefix(2);
        base = 16;
    }
    long long v = -1;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec != std::errc() || p == s.data()) return -1;
    return v;
}

long long quantity_of(const json::value& v) {
    if (v.is_string()) return parse_quantity(v.get_string());
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() < static_cast<std::uint64_t>(INT64_MAX)) return static_cast<long long>(v.get_uint64());
    return -1;
}

// Suggested range end from the message text: "[0xa, 0xb]" or "range a-b".
long long suggested_from_text(const std::string& m) {
    // Alchemy / Infura: "... [0x0, 0xd043b8]"
    for (std::size_t pos = m.find('['); pos != std::string::npos; pos = m.find('[', pos + 1)) {
        std::size_t close = m.find(']', pos);
        if (close == std::string::npos) break;
        std::string_view inside(m.data() + pos + 1, close - pos - 1);
        std::size_t comma = inside.find(',');
        if (comma == std::string_view::npos) continue;
        long long a = parse_quantity(inside.substr(0, comma));
        long long b = parse_quantity(inside.substr(comma + 1));
        if (a >= 0 && b >= a) return b;
    }
    // "retry with the range 23879634-23879696"
    static constexpr std::string_view kRange = "with the range ";
    if (auto pos = m.find(kRange); pos != std::string::npos) {
        std::string_view rest(m.data() + pos + kRange.size(), m.size() - pos - kRange.size());
        std::size_t dash = rest.find('-');
        if (dash != std::string_view::npos) {
            long long a = parse_quantity(rest.substr(0, dash));
            long long b = parse_quantity(rest.substr(dash + 1));
            if (a >= 0 && b >= a) return b;
        }
    }
    return -1;
}

bool is_rate_limit_message(int code, const std::string& m) {
    return code == 429 || contains(m, "rate limit") || contains(m, "too many requests") ||
           contains(m, "request rate") || contains(m, "rate exceeded") || contains(m, "frequency limit") ||
           contains(m, "capacity exceeded");
}

Error classify_rpc_error(long long code, std::string message, const json::value* data) {
    Error err;
    err.message = std::move(message);
    err.status = static_cast<int>(std::clamp<long long>(code, INT32_MIN, INT32_MAX));
    long long suggested = -1;
    if (is_range_error(err.status, err.message, data, suggested)) {
        err.code = Errc::range_too_large;
        err.suggested_to = suggested;
    } else if (is_rate_limit_message(err.status, lower(err.message))) {
        err.code = Errc::rate_limited;
    } else {
        err.code = Errc::rpc_error;
    }
    return err;
}

// Error from a JSON-RPC error object.
Error classify_error(const json::value& e) {
    Error err;
    if (!e.is_object()) {
        err.code = Errc::rpc_error;
        err.message = e.is_string() ? std::string(e.get_string()) : json::serialize(e);
        return err;
    }
    const auto& o = e.get_object();
    long long code = 0;
    if (auto* c = o.if_contains("code")) {
        if (c->is_int64()) code = c->get_int64();
        else if (c->is_uint64()) code = static_cast<long long>(c->get_uint64() & 0x7fffffff);
        else if (c->is_double()) code = static_cast<long long>(c->get_double());
    }
    std::string message;
    if (auto* m = o.if_contains("message"); m && m->is_string()) message = m->get_string();
    return classify_rpc_error(code, std::move(message), o.if_contains("data"));
}

bool id_equals(const json::value& v, std::int64_t id) {
    if (v.is_int64()) return v.get_int64() == id;
    if (v.is_uint64()) return id >= 0 && v.get_uint64() == static_cast<std::uint64_t>(id);
    if (v.is_string()) return parse_quantity(v.get_string()) == id && !v.get_string().empty();
    return false;
}

std::optional<std::int64_t> id_of(const json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(v.get_uint64());
    return std::nullopt;
}

// scheme://host:port of an endpoint: safe to log (paths and userinfo may hold keys).
std::string redact(const std::string& url) {
    std::size_t s = url.find("://");
    std::size_t start = s == std::string::npos ? 0 : s + 3;
    std::size_t end = url.find_first_of("/?#", start);
    std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
    return url.substr(0, start) + authority;
}

std::string join_url(const std::string& base, const std::string& path) {
    if (path.empty()) return base;
    if (!base.empty() && base.back() == '/' && path.front() == '/') return base + path.substr(1);
    if (!base.empty() && base.back() != '/' && path.front() != '/') return base + "/" + path;
    return base + path;
}

std::string snippet(const std::string& body) {
    std::string s = body.substr(0, 160);
    for (auto& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = ' ';
    return s;
}

}  // namespace

bool is_range_error(int code, const std::string& message, const json::value* data, long long& suggested_to) {
    suggested_to = -1;
    const std::string m = lower(message);
    bool match = code == 413;  // HTTP 413 (QuickNode answers range overflows so)
    static constexpr std::string_view patterns[] = {
        "query returned more than",      // Infura: "query returned more than 10000 results. Try with this block range [..]"
        "log response size exceeded",    // Alchemy (older): "... this block range should work: [0x0, 0xd043b8]"
        "retry with the range",          // "query exceeds max results 20000, retry with the range a-b"
        "query exceeds max results",
        "max block range",               // "query exceeds max block range 100000", java-tron "exceed max block range: 5000"
        "range is too large",            // "eth_getLogs range is too large, max is 1k blocks"
        "range too large",
        "ranges over",                   // "ranges over 10000 blocks are not supported on freetier"
        "range is too wide",             // "block range is too wide"
        "range too wide",
        "too many blocks",
        "response size exceeded",
        "response size is larger than",
        "too many results",
        "returned more than",
    };
    for (auto p : patterns)
        if (contains(m, p)) match = true;
    // "eth_getLogs is limited to 1024 block range" (BlockPI), "limited to a 10,000 blocks range" (QuickNode)
    if (contains(m, "limited to") && contains(m, "range")) match = true;
    // Bare "limit exceeded" (some providers on too many logs), but not rate/quota limits.
    if (contains(m, "limit exceeded") && !contains(m, "rate") && !contains(m, "request") && !contains(m, "credit") &&
        !contains(m, "quota") && !contains(m, "daily") && !contains(m, "compute unit") && !contains(m, "frequency"))
        match = true;
    if (!match) return false;

    if (data && data->is_object()) {
        if (auto* to = data->get_object().if_contains("to")) suggested_to = quantity_of(*to);
    }
    if (suggested_to < 0) suggested_to = suggested_from_text(m);
    return true;
}

Error classify_rpc_error(long long code, std::string message) {
    return classify_rpc_error(code, std::move(message), nullptr);
}

struct JsonRpcClient::Impl {
    struct Endpoint {
        std::string url;
        std::string safe;  // for logs
        steady::time_point next_slot{};
        steady::time_point blocked_until{};
    };
    using Interpret = std::function<Result<json::value>(json::value&&)>;
    using Raw = std::function<Status(std::string_view)>;

    HttpClient& http;
    const JsonRpcOptions& opts;
    std::vector<Endpoint> eps;
    std::mutex mu;
    std::size_t preferred = 0;
    std::atomic<std::int64_t> next_id{1};
    std::mt19937_64 rng{std::random_device{}()};
    std::shared_ptr<spdlog::logger> log = log::get("net");
    steady::duration spacing{};

    Impl(HttpClient& h, const JsonRpcOptions& o) : http(h), opts(o) {
        for (const auto& u : o.endpoints) eps.push_back(Endpoint{u, redact(u)});
        if (o.max_rps > 0)
            spacing = std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(1.0 / o.max_rps));
        auto& reg = metrics::Registry::global();
        reg.describe(kLatency, "histogram", "Latency of RPC requests to chain nodes (one HTTP exchange).");
        reg.describe(kErrors, "counter", "Failed RPC requests to chain nodes by error kind.");
    }

    std::chrono::milliseconds jitter(int attempt) {
        double cap = static_cast<double>(opts.backoff_base.count()) * std::pow(2.0, std::min(attempt, 30));
        cap = std::min(cap, static_cast<double>(opts.backoff_max.count()));
        std::lock_guard lk(mu);
        std::uniform_real_distribution<double> d(0, std::max(cap, 0.0));
        return std::chrono::milliseconds(static_cast<long long>(d(rng)));
    }

    // Reserves this endpoint's next send slot (rate cap, Retry-After) no
    // earlier than `earliest`.
    steady::time_point reserve(std::size_t i, steady::time_point earliest) {
        std::lock_guard lk(mu);
        auto& ep = eps[i];
        auto t = std::max({earliest, ep.next_slot, ep.blocked_until});
        if (spacing.count() > 0) ep.next_slot = t + spacing;
        return t;
    }

    steady::duration blocked_for(std::size_t i) {
        std::lock_guard lk(mu);
        auto now = steady::now();
        return eps[i].blocked_until > now ? eps[i].blocked_until - now : steady::duration::zero();
    }

    void count_error(const std::string& method, const Error& e) {
        (void)method;
        metrics::Registry::global().counter_add(kErrors, {{"chain", opts.name}, {"kind", to_string(e.code)}});
    }

    static asio::awaitable<void> sleep_until(steady::time_point t) {
        if (t <= steady::now()) co_return;
        asio::steady_timer timer(co_await asio::this_coro::executor);
        timer.expires_at(t);
        co_await timer.async_wait(use_tuple);
    }

    // One logical request with retry and failover. `rpc` means the body is
    // JSON-RPC: a JSON-RPC error in a non-2xx answer (Bitcoin Core) is an
    // answer, not an outage.
    // With `raw`, answers are judged from the unparsed body instead (call_raw).
    asio::awaitable<Result<json::value>> send(std::string method, std::string path, std::string body, bool rpc,
                                              Interpret interpret, Raw raw = {}) {
        if (eps.empty()) co_return make_error(Errc::unavailable, "no RPC endpoints configured");
        const std::size_t n = eps.size();
        std::size_t idx;
        {
            std::lock_guard lk(mu);
            idx = preferred % n;
        }
        std::vector<bool> tried(n, false);
        Error last = make_error(Errc::unavailable, "no attempt made");
        const int attempts = std::max(1, opts.max_attempts);

        for (int attempt = 0; attempt < attempts; ++attempt) {
            auto earliest = steady::now();
            if (tried[idx]) earliest += jitter(attempt);
            if (blocked_for(idx) > opts.backoff_max) {
                // This endpoint asked (Retry-After) for a longer pause than one call
                // waits: use another endpoint, or hand the wait to the caller.
                std::size_t alt = idx;
                auto shortest = blocked_for(idx);
                for (std::size_t k = 1; k < n; ++k) {
                    std::size_t j = (idx + k) % n;
                    if (blocked_for(j) < shortest) {
                        shortest = blocked_for(j);
                        alt = j;
                    }
                }
                if (shortest > opts.backoff_max) {
                    if (last.code == Errc::rate_limited) co_return last;
                    Error e = make_error(Errc::rate_limited, "all endpoints asked to pause (Retry-After)");
                    e.retry_after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(shortest).count();
                    co_return e;
                }
                idx = alt;
                if (tried[idx]) earliest = steady::now() + jitter(attempt);
            }
            tried[idx] = true;
            co_await sleep_until(reserve(idx, earliest));

            HttpRequest req;
            req.method = "POST";
            req.url = join_url(eps[idx].url, path);
            req.headers.emplace_back("Content-Type", "application/json");
            req.headers.emplace_back("Accept", "application/json");
            for (const auto& h : opts.headers) req.headers.push_back(h);
            req.body = body;
            req.timeout = opts.timeout;
            req.max_response_bytes = opts.max_response_bytes;

            const auto t0 = steady::now();
            auto hr = co_await http.request(std::move(req));
            metrics::Registry::global().observe(kLatency, {{"chain", opts.name}, {"method", method}},
                                                std::chrono::duration<double>(steady::now() - t0).count());

            bool transient = false;
            Result<json::value> out = make_error(Errc::internal, "unset");
            if (!hr) {
                out = hr.error();
                transient = true;
            } else {
                const int st = hr->status;
                const std::string ra_hdr = hr->header("Retry-After");
                if (st == 429 || (st == 503 && !ra_hdr.empty())) {
                    Error e = make_error(Errc::rate_limited, "HTTP " + std::to_string(st) + " from " + eps[idx].safe);
                    e.status = st;
                    auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch()).count();
                    e.retry_after_ms = ra_hdr.empty() ? -1 : retry_after_ms(ra_hdr, now_ms);
                    if (e.retry_after_ms > 0) {
                        std::lock_guard lk(mu);
                        eps[idx].blocked_until = steady::now() + std::chrono::milliseconds(e.retry_after_ms);
                    }
                    out = std::move(e);
                    transient = true;
                } else if (st == 413) {
                    Error e = make_error(Errc::range_too_large, "HTTP 413 from " + eps[idx].safe + ": " + snippet(hr->body));
                    e.status = 413;
                    out = std::move(e);
                } else if (st < 200 || st > 299) {
                    bool answered = false;
                    if (rpc) {
                        auto v = json::parse_bounded(hr->body, opts.max_response_bytes);
                        if (v) {
                            auto r = raw ? judge_raw(raw, hr->body) : interpret(std::move(*v));
                            if (r || r.error().code != Errc::malformed) {
                                out = std::move(r);
                                answered = true;
                                transient = !out.ok() && out.error().code == Errc::rate_limited;
                            }
                        }
                    }
                    if (!answered) {
                        Error e = make_error(Errc::http_status, "HTTP " + std::to_string(st) + " from " + eps[idx].safe +
                                                                    ": " + snippet(hr->body));
                        e.status = st;
                        out = std::move(e);
                        transient = st >= 500 || st == 408 || st == 403;
                    }
                } else if (raw) {
                    out = judge_raw(raw, hr->body);
                    transient = !out.ok() && (out.error().code == Errc::rate_limited || out.error().code == Errc::transport);
                } else {
                    auto v = json::parse_bounded(hr->body, opts.max_response_bytes);
                    if (!v) {
                        out = make_error(Errc::transport, "non-JSON body from " + eps[idx].safe + ": " + snippet(hr->body));
                        transient = true;
                    } else {
                        out = interpret(std::move(*v));
                        transient = !out.ok() && out.error().code == Errc::rate_limited;
                    }
                }
            }

            if (out.ok()) {
                std::lock_guard lk(mu);
                preferred = idx;
                co_return out;
            }
            count_error(method, out.error());
            if (!transient) co_return out;
            last = out.error();
            const std::size_t next = (idx + 1) % n;
            if (attempt + 1 < attempts) {
                if (next != idx)
                    log->warn("{} {}: {} — trying {}", opts.name, eps[idx].safe, last.describe(), eps[next].safe);
                else
                    log->debug("{} {}: {} — retrying", opts.name, eps[idx].safe, last.describe());
            }
            idx = next;
        }
        co_return last;
    }

    static Result<json::value> judge_raw(const Raw& raw, const std::string& body) {
        auto st = raw(body);
        if (!st) return st.error();
        return json::value{};
    }

    json::object request_object(std::int64_t id, const std::string& method, json::array params) {
        json::object o;
        o["jsonrpc"] = "2.0";
        o["id"] = id;
        o["method"] = method;
        o["params"] = std::move(params);
        return o;
    }

    static Result<json::value> interpret_single(json::value&& v, std::int64_t id) {
        if (!v.is_object()) return make_error(Errc::malformed, "JSON-RPC response is not an object");
        auto& o = v.get_object();
        if (auto* e = o.if_contains("error"); e && !e->is_null()) return classify_error(*e);
        auto* idv = o.if_contains("id");
        if (!idv || !id_equals(*idv, id)) return make_error(Errc::malformed, "JSON-RPC response id does not match the request");
        auto* r = o.if_contains("result");
        if (!r) return make_error(Errc::malformed, "JSON-RPC response has neither result nor error");
        return std::move(*r);
    }

    static Result<json::value> interpret_batch(json::value&& v, std::int64_t first_id, std::size_t count) {
        if (v.is_object()) {
            // Whole-batch refusal, e.g. geth {"code":-32600,"message":"batch too large"}.
            if (auto* e = v.get_object().if_contains("error"); e && !e->is_null()) return classify_error(*e);
            return make_error(Errc::malformed, "JSON-RPC batch response is not an array");
        }
        if (!v.is_array()) return make_error(Errc::malformed, "JSON-RPC batch response is not an array");
        auto& arr = v.get_array();
        std::vector<json::object*> slot(count, nullptr);
        for (auto& el : arr) {
            if (!el.is_object()) return make_error(Errc::malformed, "JSON-RPC batch element is not an object");
            auto* idv = el.get_object().if_contains("id");
            auto id = idv ? id_of(*idv) : std::nullopt;
            if (!id || *id < first_id || *id >= first_id + static_cast<std::int64_t>(count)) {
                // An error without a usable id refuses the whole batch.
                if (auto* e = el.get_object().if_contains("error"); e && !e->is_null()) return classify_error(*e);
                return make_error(Errc::malformed, "JSON-RPC batch answer with an unknown id");
            }
            auto k = static_cast<std::size_t>(*id - first_id);
            if (slot[k]) return make_error(Errc::malformed, "JSON-RPC batch answers id " + std::to_string(*id) + " twice");
            slot[k] = &el.get_object();
        }
        json::array out;
        out.reserve(count);
        for (std::size_t k = 0; k < count; ++k) {
            if (!slot[k])
                return make_error(Errc::malformed, "JSON-RPC batch answer lacks id " +
                                                       std::to_string(first_id + static_cast<std::int64_t>(k)));
            auto& o = *slot[k];
            if (auto* e = o.if_contains("error"); e && !e->is_null()) {
                Error err = classify_error(*e);
                err.message = "batch element " + std::to_string(k) + ": " + err.message;
                return err;
            }
            auto* r = o.if_contains("result");
            if (!r) return make_error(Errc::malformed, "JSON-RPC batch element has neither result nor error");
            out.push_back(std::move(*r));
        }
        return json::value(std::move(out));
    }
};

JsonRpcClient::JsonRpcClient(HttpClient& http, JsonRpcOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(http, options_)) {}

JsonRpcClient::~JsonRpcClient() = default;

asio::awaitable<Result<json::value>> JsonRpcClient::call(std::string method, json::array params) {
    try {
        const std::int64_t id = impl_->next_id.fetch_add(1);
        std::string body = json::serialize(impl_->request_object(id, method, std::move(params)));
        co_return co_await impl_->send(method, "", std::move(body), true,
                                       [id](json::value&& v) { return Impl::interpret_single(std::move(v), id); });
    } catch (const std::exception& e) {
        co_return make_error(Errc::internal, std::string("JSON-RPC call failed: ") + e.what());
    }
}

asio::awaitable<Result<std::vector<json::value>>> JsonRpcClient::batch(std::vector<RpcCall> calls, std::size_t max_batch) {
    try {
        std::vector<json::value> results;
        results.reserve(calls.size());
        if (max_batch == 0) max_batch = 1;
        for (std::size_t begin = 0; begin < calls.size(); begin += max_batch) {
            const std::size_t count = std::min(max_batch, calls.size() - begin);
            const std::int64_t first = impl_->next_id.fetch_add(static_cast<std::int64_t>(count));
            json::array req;
            req.reserve(count);
            for (std::size_t k = 0; k < count; ++k) {
                auto& c = calls[begin + k];
                req.push_back(impl_->request_object(first + static_cast<std::int64_t>(k), c.method, std::move(c.params)));
            }
            auto r = co_await impl_->send("batch", "", json::serialize(req), true, [first, count](json::value&& v) {
                return Impl::interpret_batch(std::move(v), first, count);
            });
            if (!r) co_return r.error();
            for (auto& v : r->get_array()) results.push_back(std::move(v));
        }
        co_return results;
    } catch (const std::exception& e) {
        co_return make_error(Errc::internal, std::string("JSON-RPC batch failed: ") + e.what());
    }
}

asio::awaitable<Status> JsonRpcClient::call_raw(std::string method, json::array params, RawDecoder decode) {
    try {
        const std::int64_t id = impl_->next_id.fetch_add(1);
        std::string body = json::serialize(impl_->request_object(id, method, std::move(params)));
        auto r = co_await impl_->send(method, "", std::move(body), true, {},
                                      [id, &decode](std::string_view b) { return decode(b, id); });
        if (!r) co_return r.error();
        co_return Status{};
    } catch (const std::exception& e) {
        co_return make_error(Errc::internal, std::string("JSON-RPC call failed: ") + e.what());
    }
}

asio::awaitable<Status> JsonRpcClient::batch_raw(std::vector<RpcCall> calls, RawDecoder decode) {
    try {
        if (calls.empty()) co_return Status{};
        const std::int64_t first = impl_->next_id.fetch_add(static_cast<std::int64_t>(calls.size()));
        json::array req;
        req.reserve(calls.size());
        for (std::size_t k = 0; k < calls.size(); ++k)
            req.push_back(impl_->request_object(first + static_cast<std::int64_t>(k), calls[k].method,
                                                std::move(calls[k].params)));
        auto r = co_await impl_->send("batch", "", json::serialize(req), true, {},
                                      [first, &decode](std::string_view b) { return decode(b, first); });
        if (!r) co_return r.error();
        co_return Status{};
    } catch (const std::exception& e) {
        co_return make_error(Errc::internal, std::string("JSON-RPC batch failed: ") + e.what());
    }
}

asio::awaitable<Result<json::value>> JsonRpcClient::post_json(std::string path, std::string body) {
    try {
        std::string label = path.substr(0, path.find('?'));
        co_return co_await impl_->send(label, path, std::move(body), false,
                                       [](json::value&& v) -> Result<json::value> { return std::move(v); });
    } catch (const std::exception& e) {
        co_return make_error(Errc::internal, std::string("POST failed: ") + e.what());
    }
}

}  // namespace depositd::net
