#include "codec/password.hpp"

#include <sodium.h>

#include <stdexcept>

namespace depositd::codec {
namespace {

constexpr std::size_t kMaxPassword = 4096;

void init() {
    // Thread-safe and idempotent; -1 only when no randomness is available.
    if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised (no randomness source)");
}

Result<std::string> hash_with(std::string_view password, unsigned long long ops, std::size_t mem) {
    init();
    if (password.empty()) return make_error(Errc::invalid_input, "the password is empty");
    if (password.size() > kMaxPassword) return make_error(Errc::invalid_input, "the password is longer than 4096 bytes");
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return make_error(Errc::internal, "argon2id: out of memory");
    return std::string(out);
}

// "m=<KiB>,t=<passes>" of "$argon2id$v=19$m=65536,t=2,p=1$...", 0 when absent.
unsigned long long param(std::string_view hash, std::string_view name) {
    const auto at = hash.find(name);
    if (at == std::string_view::npos) return 0;
    unsigned long long v = 0;
    for (std::size_t i = at + name.size(); i < hash.size() && hash[i] >= '0' && hash[i] <= '9' && v < (1ULL << 40); ++i)
        v = v * 10 + static_cast<unsigned long long>(hash[i] - '0');
    return v;
}

}  // namespace

Result<std::string> hash_password(std::string_view password) {
    return hash_with(password, crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

Result<std::string> hash_password_like(std::string_view password, std::string_view model) {
    const unsigned long long kib = param(model, "$m="), passes = param(model, ",t=");
    const bool usable = valid_password_hash(model) && passes >= crypto_pwhash_OPSLIMIT_MIN &&
                        passes <= crypto_pwhash_OPSLIMIT_MAX && kib * 1024 >= crypto_pwhash_MEMLIMIT_MIN &&
                        kib <= (4ULL << 20);  // at most 4 GiB
    if (!usable) return hash_password(password);
    return hash_with(password, passes, static_cast<std::size_t>(kib * 1024));
}

bool verify_password(std::string_view hash, std::string_view password) {
    init();
    if (password.size() > kMaxPassword || hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
    if (hash.rfind("$argon2id$", 0) != 0) return false;
    std::string h(hash);  // NUL-terminated copy
    return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

bool valid_password_hash(std::string_view hash) {
    init();
    if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES || hash.rfind("$argon2id$", 0) != 0) return false;
    std::string h(hash);
    // -1: not a hash libsodium can read; 0/1: readable (1 = weaker limits than ours).
    return crypto_pwhash_str_needs_rehash(h.c_str(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != -1;
}

}  // namespace depositd::codec
