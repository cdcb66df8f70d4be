// libFuzzer target on api::Handler::handle (clang only; see docs/api.md).
// Input layout: byte 0 picks the method, byte 1 the Authorization variant
// (and, for /admin, the cookie), then the target up to the first '\n', then
// the body. The console is on ([admin] with one user), so /admin's login,
// forms and pages are fuzzed too.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "api/handler.hpp"
#include "codec/password.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include <filesystem>
#include <unistd.h>

#include "store/database.hpp"
#include "store/store.hpp"

using namespace depositd;

namespace {

struct World {
    config::Config config;
    ManualClock clock;
    std::unique_ptr<store::Database> db;
    std::unique_ptr<store::Store> store;
    std::unique_ptr<api::Handler> handler;

    World() {
        log::set_level("off");
        config.api.keys = {"fuzz-key"};
        config::ChainConfig eth;
        eth.id = "ethereum";
        eth.kind = Protocol::evm;
        config.chains.push_back(eth);
        config.pool.cooldown = std::chrono::minutes(1);
        // A console user with a hash of libsodium's smallest cost (fast to verify).
        auto hash = codec::hash_password_like(
            "fuzz-password", "$argon2id$v=19$m=8,t=1,p=1$LzlCYUhjVlJjdGpOL2lqVA$ieJOaOs+Wa4pBWNdJJDR9LDBsAAZICNTR6k9zNt/4II");
        if (!hash) __builtin_trap();
        config.admin.enabled = true;
        config.admin.users = {{"fuzz", *hash, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "fuzz"}};
        // A real file: the handler reads through the store's read-only connections.
        const auto path = (std::filesystem::temp_directory_path() /
                           ("depositd-fuzz-" + std::to_string(::getpid()) + ".sqlite")).string();
        std::filesystem::remove(path);
        auto opened = store::Database::open(path);
        if (!opened) __builtin_trap();
        db = std::move(*opened);
        if (!db->migrate()) __builtin_trap();
        for (int i = 0; i < 50; ++i) {
            auto q = db->prepare(
                "INSERT INTO addresses (protocol, address, watch_key, source, state, created_at) "
                "VALUES (?1, ?2, ?3, 'fuzz', 'free', 0)");
            std::string a = "addr" + std::to_string(i);
            q.bind(1, i % 2 ? "evm" : "tron").bind(2, a).bind(3, a);
            (void)q.run();
        }
        auto st = store::Store::open(path);
        if (!st) __builtin_trap();
        store = std::move(*st);
        handler = std::make_unique<api::Handler>(*store, config, clock);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World w;
    if (size < 2) return 0;
    static const char* methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", ""};
    static const char* auths[] = {"Bearer fuzz-key", "", "Bearer nope", "bearer fuzz-key"};
    static const char* cookies[] = {"", "depositd_session=x", "depositd_login=0123456789abcdef0123456789abcdef0123",
                                    "depositd_lang=zh; depositd_session="};
    api::Request r;
    r.method = methods[data[0] % 8];
    r.authorization = auths[data[1] % 4];
    r.cookie = cookies[(data[1] >> 2) % 4];
    r.peer = "192.0.2.1";
    r.content_type = "application/x-www-form-urlencoded";
    std::string rest(reinterpret_cast<const char*>(data + 2), size - 2);
    auto nl = rest.find('\n');
    r.target = rest.substr(0, nl);
    if (nl != std::string::npos) r.body = rest.substr(nl + 1);
    w.clock.advance(std::chrono::seconds(1));
    auto resp = w.handler->handle(r);
    if (resp.status < 200 || resp.status > 599) __builtin_trap();
    if (resp.status == 500) __builtin_trap();  // no input may cause an internal error
    return 0;
}
