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
#include "core/text.hpp"
#include "net/rpc_answers.hpp"

namespace depositd::net {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr const char* kLatency = "depositd_rpc_request_seconds";
constexpr const char* kErrors = "depositd_rpc_errors_total";

std::string snippet(std::string_view body) { return quote_untrusted(body); }

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


}  // namespace

namespace {
// Which endpoints a send() may use (CallOptions, endpoint probes).
struct Route {
    std::optional<std::size_t> only;   // this endpoint only, no EndpointCheck
    bool other = false;                // start after the preferred endpoint
    int attempts = 0;                  // 0 = opts.max_attempts
};
}  // namespace

using detail::interpret_batch;
using detail::interpret_single;

struct JsonRpcClient::Impl {
    struct Endpoint {
        std::string url;
        std::string safe;  // for logs
        steady::time_point next_slot{};
        steady::time_point blocked_until{};
    };
    // EndpointCheck state of one endpoint (kept apart from Endpoint).
    struct Checked {
        bool known = false;                // probed at least once with the current check
        bool bad = false;                  // out of rotation
        steady::time_point at{};           // last probe
        std::string reason;                // why it is out
    };
    // What an answer body turned into: a JSON value (call, batch, post_json)
    // or the body itself (call_raw).
    struct Reply {
        json::value value;
        std::string raw;
    };
    // Body -> Reply. Errors: Errc::transport when the body is not JSON at all,
    // Errc::malformed when it is JSON but no answer to our request, any other
    // code for the node's own error. On failure `body` is left as it was.
    using Interpret = std::function<Result<Reply>(std::string& body)>;

    HttpClient& http;
    const JsonRpcOptions& opts;
    std::vector<Endpoint> eps;
    std::mutex mu;
    std::size_t preferred = 0;
    std::atomic<std::int64_t> next_id{1};
    std::mt19937_64 rng{std::random_device{}()};
    std::shared_ptr<spdlog::logger> log = log::get("net");
    steady::duration spacing{};
    std::shared_ptr<const EndpointCheck> check;  // under mu
    std::vector<Checked> checked;                // under mu, one per endpoint

    Impl(HttpClient& h, const JsonRpcOptions& o) : http(h), opts(o) {
        for (const auto& u : o.endpoints) eps.push_back(Endpoint{u, redact(u)});
        checked.resize(eps.size());
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
    asio::awaitable<Result<Reply>> send(std::string method, std::string path, std::string body, bool rpc,
                                        Interpret interpret, Route route = {}) {
        if (eps.empty()) co_return make_error(Errc::unavailable, "no RPC endpoints configured");
        const std::size_t n = eps.size();
        if (route.only && *route.only >= n) co_return make_error(Errc::invalid_input, "no such RPC endpoint");
        std::size_t idx = start_index(route);
        std::vector<bool> tried(n, false);
        Error last = make_error(Errc::unavailable, "no attempt made");
        const int attempts = std::max(1, route.attempts > 0 ? route.attempts : opts.max_attempts);

        for (int attempt = 0; attempt < attempts; ++attempt) {
            auto earliest = steady::now();
            if (tried[idx]) earliest += jitter(attempt);
            if (blocked_for(idx) > opts.backoff_max) {
                // This endpoint asked (Retry-After) for a longer pause than one call
                // waits: use another endpoint, or hand the wait to the caller.
                std::size_t alt = idx;
                auto shortest = blocked_for(idx);
                for (std::size_t k = 1; k < (route.only ? 1 : n); ++k) {
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
            if (!route.only && has_check()) {
                // An endpoint out of rotation is never used; choosing another
                // one is not an attempt.
                Status usable = co_await admit(idx);
                if (!usable && usable.error().code == Errc::invalid_input) {
                    auto alt = in_rotation_after(idx);
                    if (!alt) co_return all_out_of_rotation();
                    idx = *alt;
                    --attempt;
                    continue;
                }
                if (!usable) {  // the probe itself failed: a failed attempt
                    last = usable.error();
                    tried[idx] = true;
                    idx = (idx + 1) % n;
                    if (attempt + 1 < attempts) co_await sleep_until(steady::now() + jitter(attempt));
                    continue;
                }
            }
            tried[idx] = true;
            co_await sleep_until(reserve(idx, earliest));

            const auto t0 = steady::now();
            HttpRequest req = make_request(eps[idx].url, path, body, false);
            auto hr = co_await http.request(std::move(req));
            if (hr && hr->status == 401 && opts.basic_auth) {
                // The node's password may have changed (a restarted bitcoind
                // wrote a new cookie): read the credentials again, once.
                HttpRequest again = make_request(eps[idx].url, path, body, true);
                hr = co_await http.request(std::move(again));
            }
            metrics::Registry::global().observe(kLatency, {{"chain", opts.name}, {"method", method}},
                                                std::chrono::duration<double>(steady::now() - t0).count());

            bool transient = false;
            Result<Reply> out = make_error(Errc::internal, "unset");
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
                    // Bounded: a proxy's "Retry-After: 86400" pauses this endpoint 10 min, not a day.
                    e.retry_after_ms = ra_hdr.empty() ? -1 : retry_after_ms(ra_hdr, now_ms, kMaxNodeRetryAfterMs);
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
                    if (rpc && !hr->truncated) {
                        auto r = interpret(hr->body);
                        if (r || (r.error().code != Errc::malformed && r.error().code != Errc::transport)) {
                            out = std::move(r);
                            answered = true;
                            transient = !out.ok() && out.error().code == Errc::rate_limited;
                        }
                    }
                    if (!answered) {
                        Error e = make_error(Errc::http_status, "HTTP " + std::to_string(st) + " from " + eps[idx].safe +
                                                                    ": " + snippet(hr->body));
                        e.status = st;
                        out = std::move(e);
                        transient = st >= 500 || st == 408 || st == 403;
                    }
                } else if (hr->truncated) {
                    // Not transient: the same request gets the same answer. An
                    // adapter answers range_too_large with a smaller range.
                    out = make_error(Errc::range_too_large,
                                     "the answer from " + eps[idx].safe + " is larger than max_response_size (" +
                                         std::to_string(opts.max_response_bytes) + " bytes)");
                } else {
                    auto r = interpret(hr->body);
                    if (!r && r.error().code == Errc::transport) {
                        out = make_error(Errc::transport, "non-JSON body from " + eps[idx].safe + ": " + snippet(hr->body));
                        transient = true;
                    } else {
                        out = std::move(r);
                        transient = !out.ok() && out.error().code == Errc::rate_limited;
                    }
                }
            }

            if (out.ok()) {
                std::lock_guard lk(mu);
                if (!route.only && !route.other) preferred = idx;
                co_return out;
            }
            count_error(method, out.error());
            if (!transient) co_return out;
            last = out.error();
            const std::size_t next = route.only ? idx : (idx + 1) % n;
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

    std::size_t start_index(const Route& route) {
        if (route.only) return *route.only;
        std::lock_guard lk(mu);
        return (preferred + (route.other ? 1 : 0)) % eps.size();
    }

    bool has_check() {
        std::lock_guard lk(mu);
        return check != nullptr;
    }

    // The first endpoint after `i` (cyclically, `i` last) that is in rotation
    // or due for another probe.
    std::optional<std::size_t> in_rotation_after(std::size_t i) {
        std::lock_guard lk(mu);
        const auto now = steady::now();
        for (std::size_t k = 1; k <= eps.size(); ++k) {
            const std::size_t j = (i + k) % eps.size();
            const auto& c = checked[j];
            if (!c.bad || !check || now - c.at >= check->retry_bad_after) return j;
        }
        return std::nullopt;
    }

    Error all_out_of_rotation() {
        std::lock_guard lk(mu);
        std::string why;
        for (std::size_t j = 0; j < eps.size(); ++j)
            why += (j ? "; " : "") + eps[j].safe + ": " + checked[j].reason;
        return make_error(Errc::unavailable, "every RPC endpoint is out of rotation (" + why + ")");
    }

    // Ok when endpoint i may be used now; probes it when its check is due.
    // Errc::invalid_input: out of rotation. Other errors: the probe failed.
    asio::awaitable<Status> admit(std::size_t i) {
        std::shared_ptr<const EndpointCheck> chk;
        Checked c;
        bool switching = false;
        {
            std::lock_guard lk(mu);
            chk = check;
            c = checked[i];
            switching = i != preferred % eps.size();
        }
        if (!chk) co_return Status{};
        const auto age = steady::now() - c.at;
        if (c.known && c.bad && age < chk->retry_bad_after) co_return make_error(Errc::invalid_input, c.reason);
        if (c.known && !c.bad && age < chk->recheck_every && !(switching && age >= chk->recheck_on_switch))
            co_return Status{};
        co_return co_await probe(i, chk);
    }

    // One check request to endpoint i; records the verdict.
    asio::awaitable<Status> probe(std::size_t i, std::shared_ptr<const EndpointCheck> chk) {
        const std::int64_t id = next_id.fetch_add(1);
        std::string body = json::serialize(request_object(id, chk->method, chk->params));
        Route only_i;
        only_i.only = i;
        only_i.attempts = 1;
        auto r = co_await send(chk->method, "", std::move(body), true,
                               dom(opts.max_response_bytes, [id](json::value&& v) { return interpret_single(std::move(v), id); }),
                               only_i);
        Status verdict = r ? chk->check(r->value) : Status(r.error());
        if (!verdict && verdict.error().code != Errc::invalid_input) co_return verdict;  // could not tell
        std::lock_guard lk(mu);
        if (chk != check) co_return verdict;  // replaced meanwhile
        auto& c = checked[i];
        const bool was_bad = c.known && c.bad;
        c.known = true;
        c.at = steady::now();
        c.bad = !verdict;
        c.reason = verdict ? std::string() : verdict.error().message;
        if (c.bad && !was_bad)
            log->error("{} {}: taken out of rotation: {} (checked again in {} s)", opts.name, eps[i].safe, c.reason,
                       std::chrono::duration_cast<std::chrono::seconds>(chk->retry_bad_after).count());
        else if (!c.bad && was_bad)
            log->warn("{} {}: passes its check again; back in rotation", opts.name, eps[i].safe);
        co_return verdict;
    }

    template <class F>
    static Interpret dom(std::size_t max_bytes, F f) {
        return [max_bytes, f = std::move(f)](std::string& body) -> Result<Reply> {
            auto v = json::parse_bounded(body, max_bytes);
            if (!v) return make_error(Errc::transport, "not JSON");
            auto r = f(std::move(*v));
            if (!r) return r.error();
            return Reply{std::move(*r), {}};
        };
    }

    // call_raw/batch_raw with a decoder: the decoder's verdict on the body.
    static Interpret raw(const RawDecoder& decode, std::int64_t first_id) {
        return [&decode, first_id](std::string& body) -> Result<Reply> {
            Status st = decode(body, first_id);
            if (!st) return st.error();
            return Reply{};
        };
    }

    // call_raw: the body itself once its top level says it answers `id`.
    static Result<Reply> interpret_raw(std::string& body, std::int64_t id, std::size_t max_bytes) {
        Status st = detail::check_raw_answer(body, id, max_bytes);
        if (!st) return st.error();
        return Reply{json::value(), std::move(body)};
    }

    HttpRequest make_request(const std::string& url, const std::string& path, const std::string& body, bool reload_auth) {
        HttpRequest req;
        req.method = "POST";
        req.url = join_url(url, path);
        req.headers.emplace_back("Content-Type", "application/json");
        req.headers.emplace_back("Accept", "application/json");
        for (const auto& h : opts.headers) req.headers.push_back(h);
        if (opts.basic_auth) req.basic_auth = opts.basic_auth(reload_auth);
        req.body = body;
        req.timeout = opts.timeout;
        req.max_response_bytes = opts.max_response_bytes;
        return req;
    }

    json::object request_object(std::int64_t id, const std::string& method, json::array params) {
        json::object o;
        o["jsonrpc"] = "2.0";
        o["id"] = id;
        o["method"] = method;
        o["params"] = std::move(params);
        return o;
    }

};

JsonRpcClient::JsonRpcClient(HttpClient& http, JsonRpcOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(http, options_)) {}

JsonRpcClient::~JsonRpcClient() = default;

asio::awaitable<Result<json::value>> JsonRpcClient::call(std::string method, json::array params, CallOptions where) {
    try {
        const std::int64_t id = impl_->next_id.fetch_add(1);
        std::string body = json::serialize(impl_->request_object(id, method, std::move(params)));
        Route route;
        route.only = where.endpoint;
        route.other = where.prefer_other_endpoint;
        auto r = co_await impl_->send(method, "", std::move(body), true,
                                      Impl::dom(options_.max_response_bytes,
                                                [id](json::value&& v) { return interpret_single(std::move(v), id); }),
                                      route);
        if (!r) co_return r.error();
        co_return std::move(r->value);
    } catch (const std::exception& e) {
        co_return make_error(Errc::internal, std::string("JSON-RPC call failed: ") + e.what());
    }
}

asio::awaitable<Result<std::string>> JsonRpcClient::call_raw(std::string method, json::array params) {
    try {
        const std::int64_t id = impl_->next_id.fetch_add(1);
        std::string body = json::serialize(impl_->request_object(id, method, std::move(params)));
        const std::size_t max = options_.max_response_bytes;
        auto r = co_await impl_->send(method, "", std::move(body), true,
                                      [id, max](std::string& b) { return Impl::interpret_raw(b, id, max); });
        if (!r) co_return r.error();
        co_return std::move(r->raw);
    } catch (const std::exception& e) {
        co_return make_error(Errc::internal, std::string("JSON-RPC call failed: ") + e.what());
    }
}

asio::awaitable<Result<std::vector<json::value>>> JsonRpcClient::batch(std::vector<RpcCall> calls, std::size_t max_batch,
                                                                      CallOptions where) {
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
            Route route;
            route.only = where.endpoint;
            route.other = where.prefer_other_endpoint;
            auto r = co_await impl_->send("batch", "", json::serialize(req), true,
                                          Impl::dom(options_.max_response_bytes, [first, count](json::value&& v) {
                                              return interpret_batch(std::move(v), first, count);
                                          }),
                                          route);
            if (!r) co_return r.error();
            for (auto& v : r->value.get_array()) results.push_back(std::move(v));
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
        auto r = co_await impl_->send(method, "", std::move(body), true, Impl::raw(decode, id));
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
        auto r = co_await impl_->send("batch", "", json::serialize(req), true, Impl::raw(decode, first));
        if (!r) co_return r.error();
        co_return Status{};
    } catch (const std::exception& e) {
        co_return make_error(Errc::internal, std::string("JSON-RPC batch failed: ") + e.what());
    }
}

asio::awaitable<Result<json::value>> JsonRpcClient::post_json(std::string path, std::string body) {
    try {
        std::string label = path.substr(0, path.find('?'));
        auto r = co_await impl_->send(label, path, std::move(body), false,
                                      Impl::dom(options_.max_response_bytes,
                                          [](json::value&& v) -> Result<json::value> { return std::move(v); }));
        if (!r) co_return r.error();
        co_return std::move(r->value);
    } catch (const std::exception& e) {
        co_return make_error(Errc::internal, std::string("POST failed: ") + e.what());
    }
}

void JsonRpcClient::set_endpoint_check(EndpointCheck check) {
    auto c = std::make_shared<const EndpointCheck>(std::move(check));
    std::lock_guard lk(impl_->mu);
    impl_->check = std::move(c);
    impl_->checked.assign(impl_->eps.size(), Impl::Checked{});
}

asio::awaitable<std::vector<Status>> JsonRpcClient::check_endpoints() {
    std::vector<Status> out;
    std::shared_ptr<const EndpointCheck> chk;
    {
        std::lock_guard lk(impl_->mu);
        chk = impl_->check;
    }
    for (std::size_t i = 0; i < impl_->eps.size(); ++i) {
        if (!chk) {
            out.push_back(make_error(Errc::internal, "no endpoint check installed"));
            continue;
        }
        try {
            out.push_back(co_await impl_->probe(i, chk));
        } catch (const std::exception& e) {
            out.push_back(make_error(Errc::internal, std::string("endpoint check failed: ") + e.what()));
        }
    }
    co_return out;
}

std::string JsonRpcClient::endpoint_name(std::size_t i) const {
    return i < impl_->eps.size() ? impl_->eps[i].safe : std::string("?");
}

}  // namespace depositd::net
