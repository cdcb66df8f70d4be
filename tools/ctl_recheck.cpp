// depositctl recheck: asks the RUNNING daemon to re-check one transaction
// (POST /api/v1/deposits/recheck on its [api].listen, with the first of
// [api].keys). The daemon owns the chains' nodes, the scanner that records
// deposits and the webhook outbox it drains: going through it records the
// transfers exactly as the API route does and sends their webhooks at once.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <iostream>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "ctl.hpp"
#include "net/http_client.hpp"

namespace depositd::ctl {

namespace {

namespace asio = boost::asio;

std::string str(const json::value& v) {
    if (v.is_null()) return "-";
    if (v.is_string()) return std::string(v.as_string());
    return json::serialize(v);
}

// Where the daemon's API answers on this machine: a wildcard listen address
// is reached on loopback.
std::string api_base(const config::ApiConfig& api) {
    std::string host = api.host;
    if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::" || host == "[::]") host = "[::1]";
    if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
    return "http://" + host + ":" + std::to_string(api.port);
}

}  // namespace

int cmd_recheck(Context& ctx, const Args& a) {
    const std::string chain = a.required("--chain");
    const std::string tx = a.required("--tx");
    bool known = false;
    for (const auto& c : ctx.config().chains) known = known || c.id == chain;
    if (!known) throw UsageError{"--chain " + printable(chain, 40) + " is not a configured chain"};

    // The API key is a daemon-side secret: read the configuration as the
    // daemon does (its ${VAR}s set, e.g. through --env-file).
    auto loaded = config::load_file(ctx.config().path, config::Reader::daemon);
    if (!loaded.config || !loaded.problems.empty()) {
        for (const auto& p : loaded.problems) std::cerr << p.to_string() << "\n";
        fail_input("recheck reads [api] as the daemon does; fix the configuration (or pass --env-file)");
    }
    const auto& api = loaded.config->api;
    if (api.keys.empty()) fail_input("recheck needs an API key in [api].keys");

    json::object body;
    body["chainId"] = chain;
    body["txHash"] = tx;
    if (auto b = a.get("--block-hash")) body["blockHash"] = *b;
    net::HttpRequest req;
    req.method = "POST";
    req.url = api_base(api) + "/api/v1/deposits/recheck";
    req.headers = {{"Authorization", "Bearer " + api.keys.front()}, {"Content-Type", "application/json"}};
    req.body = json::serialize(body);
    req.timeout = std::chrono::seconds(75);  // the daemon gives the nodes 60 s

    asio::io_context io;
    net::HttpClient http(io.get_executor());
    auto fut = asio::co_spawn(io, http.request(std::move(req)), asio::use_future);
    io.run();
    auto resp = fut.get();
    if (!resp)
        fail_runtime("cannot reach the daemon at " + api_base(api) + " (" + resp.error().message +
                     "); recheck needs the running daemon: it asks the chain's nodes and sends the webhooks");
    auto parsed = json::parse_bounded(resp->body);
    if (!parsed || !parsed->is_object())
        fail_runtime("the daemon answered HTTP " + std::to_string(resp->status) + " without a JSON body");
    const auto& o = parsed->get_object();
    if (resp->status != 200) {
        const std::string msg = o.contains("message") ? str(o.at("message")) : std::string("error");
        const std::string name = o.contains("error") ? str(o.at("error")) : std::to_string(resp->status);
        if (a.has("--json")) std::cout << resp->body << "\n";
        throw Exit{resp->status == 400 ? kExitUsage : kExitRuntime, name + ": " + msg};
    }
    const auto* data = o.if_contains("data");
    if (!data || !data->is_object()) fail_runtime("the daemon's answer has no data");
    if (a.has("--json")) {
        std::cout << json::serialize(*data) << "\n";
        return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    if (const auto* deps = data->get_object().if_contains("deposits"); deps && deps->is_array()) {
        for (const auto& dv : deps->get_array()) {
            if (!dv.is_object()) continue;
            const auto& d = dv.get_object();
            auto field = [&](const char* k) { return d.contains(k) ? str(d.at(k)) : std::string("-"); };
            rows.push_back({field("id"), field("depositReference"), field("currency"), field("amount"),
                            field("confirmations") + "/" + field("requiredConfirmations"), field("status"),
                            field("address")});
        }
    }
    print_table({"ID", "REFERENCE", "CURRENCY", "AMOUNT", "CONF", "STATUS", "ADDRESS"}, rows);
    const auto* rec = data->get_object().if_contains("recorded");
    std::cout << rows.size() << " deposit(s) to watched addresses in " << printable(tx, 100) << ", "
              << (rec ? str(*rec) : std::string("0")) << " newly recorded\n";
    return kExitOk;
}

}  // namespace depositd::ctl
