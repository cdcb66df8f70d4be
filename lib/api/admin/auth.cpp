#include "api/admin/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>


#include <algorithm>
#include <array>
#include <stdexcept>

namespace depositd::api::admin {
namespace {

std::string base64url(const unsigned char* p, std::size_t n) {
    static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < n; i += 3) {
        const std::uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
        out += a[(v >> 18) & 63];
        out += a[(v >> 12) & 63];
        out += a[(v >> 6) & 63];
        out += a[v & 63];
    }
    if (i + 1 == n) {
        const std::uint32_t v = p[i] << 16;
        out += a[(v >> 18) & 63];
        out += a[(v >> 12) & 63];
    } else if (i + 2 == n) {
        const std::uint32_t v = (p[i] << 16) | (p[i + 1] << 8);
        out += a[(v >> 18) & 63];
        out += a[(v >> 12) & 63];
        out += a[(v >> 6) & 63];
    }
    return out;
}

std::string digest(std::string_view s) {
    std::array<unsigned char, SHA256_DIGEST_LENGTH> d{};
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::string random_token() {
    std::array<unsigned char, 32> b{};
    if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1)
        throw std::runtime_error("RAND_bytes failed: no randomness for a session token");
    return base64url(b.data(), b.size());
}

bool tokens_equal(std::string_view a, std::string_view b) {
    // Compare digests: equal length whatever the inputs, no early exit.
    const std::string da = digest(a), db = digest(b);
    return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0 && !a.empty();
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
    std::optional<std::string> found;
    while (!header.empty()) {
        const auto semi = header.find(';');
        std::string_view pair = trim(header.substr(0, semi));
        header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        if (trim(pair.substr(0, eq)) != name) continue;
        std::string_view v = trim(pair.substr(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        if (!found) found = std::string(v);  // the first one: the most specific path
    }
    return found;
}

// --- Sessions ------------------------------------------------------------------

Sessions::Sessions(std::chrono::milliseconds idle, std::chrono::milliseconds max_age, std::size_t max_per_user,
                   std::size_t max_total)
    : idle_ms_(idle.count()), max_ms_(max_age.count()), max_per_user_(max_per_user), max_total_(max_total) {}

bool Sessions::expired(const Session& s, std::int64_t now_ms) const {
    return now_ms - s.last_seen_ms >= idle_ms_ || now_ms - s.created_ms >= max_ms_;
}

void Sessions::sweep(std::int64_t now_ms) {
    for (auto it = by_digest_.begin(); it != by_digest_.end();) {
        if (expired(it->second, now_ms)) it = by_digest_.erase(it);
        else ++it;
    }
    swept_at_ = now_ms;
}

std::string Sessions::create(const std::string& user, std::int64_t now_ms) {
    std::string id = random_token();
    Session s;
    s.user = user;
    s.csrf = random_token();
    s.created_ms = s.last_seen_ms = now_ms;
    std::lock_guard lock(mu_);
    sweep(now_ms);
    // Bounded: a user's oldest sessions give way, then anyone's oldest.
    auto oldest_of = [&](const std::string* u) {
        auto best = by_digest_.end();
        std::size_t n = 0;
        for (auto it = by_digest_.begin(); it != by_digest_.end(); ++it) {
            if (u && it->second.user != *u) continue;
            ++n;
            if (best == by_digest_.end() || it->second.created_ms < best->second.created_ms) best = it;
        }
        return std::make_pair(best, n);
    };
    for (;;) {
        auto [it, n] = oldest_of(&user);
        if (n < max_per_user_ || it == by_digest_.end()) break;
        by_digest_.erase(it);
    }
    while (by_digest_.size() >= max_total_) {
        auto [it, n] = oldest_of(nullptr);
        if (it == by_digest_.end()) break;
        by_digest_.erase(it);
    }
    by_digest_[digest(id)] = std::move(s);
    return id;
}

std::optional<Session> Sessions::find(std::string_view id, std::int64_t now_ms) {
    if (id.empty() || id.size() > 256) return std::nullopt;
    std::lock_guard lock(mu_);
    if (now_ms - swept_at_ > 60'000) sweep(now_ms);
    auto it = by_digest_.find(digest(id));
    if (it == by_digest_.end()) return std::nullopt;
    if (expired(it->second, now_ms)) {
        by_digest_.erase(it);
        return std::nullopt;
    }
    it->second.last_seen_ms = now_ms;
    return it->second;
}

void Sessions::revoke(std::string_view id) {
    if (id.empty()) return;
    std::lock_guard lock(mu_);
    by_digest_.erase(digest(id));
}

std::size_t Sessions::size() const {
    std::lock_guard lock(mu_);
    return by_digest_.size();
}

// --- The login form's token --------------------------------------------------------

LoginTokens::LoginTokens() : key_(random_token()) {}

std::string LoginTokens::token_for(std::string_view pre_cookie) const {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int len = 0;
    const std::string msg = "depositd-login:" + std::string(pre_cookie);
    HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(msg.data()),
         msg.size(), mac.data(), &len);
    return base64url(mac.data(), len);
}

bool LoginTokens::valid(std::string_view pre_cookie, std::string_view token) const {
    if (pre_cookie.size() < 32 || pre_cookie.size() > 128 || token.empty()) return false;
    return tokens_equal(token_for(pre_cookie), token);
}

// --- Rate limits -----------------------------------------------------------------

void LoginLimiter::add(Map& m, const std::string& key, std::size_t limit, std::int64_t now_ms) {
    if (!m.count(key) && m.size() >= limits_.max_tracked) {
        // Forget the key whose newest failure is oldest.
        auto victim = std::min_element(m.begin(), m.end(), [](const auto& a, const auto& b) {
            return (a.second.empty() ? 0 : a.second.back()) < (b.second.empty() ? 0 : b.second.back());
        });
        if (victim != m.end()) m.erase(victim);
    }
    auto& q = m[key];
    q.push_back(now_ms);
    while (q.size() > limit) q.pop_front();
}

std::optional<std::int64_t> LoginLimiter::wait(Map& m, const std::string& key, std::size_t limit, std::int64_t now_ms) {
    auto it = m.find(key);
    if (it == m.end()) return std::nullopt;
    auto& q = it->second;
    while (!q.empty() && now_ms - q.front() >= limits_.window_ms) q.pop_front();
    if (q.empty()) {
        m.erase(it);
        return std::nullopt;
    }
    if (q.size() < limit) return std::nullopt;
    return q.front() + limits_.window_ms - now_ms;
}

std::optional<std::int64_t> LoginLimiter::blocked(const std::string& client, const std::string& user,
                                                  std::int64_t now_ms) {
    std::lock_guard lock(mu_);
    auto a = wait(clients_, client, limits_.per_client, now_ms);
    auto b = wait(users_, user, limits_.per_user, now_ms);
    if (a && b) return std::max(*a, *b);
    return a ? a : b;
}

void LoginLimiter::failure(const std::string& client, const std::string& user, std::int64_t now_ms) {
    std::lock_guard lock(mu_);
    add(clients_, client, limits_.per_client, now_ms);
    add(users_, user, limits_.per_user, now_ms);
}

void LoginLimiter::success(const std::string& user) {
    std::lock_guard lock(mu_);
    users_.erase(user);
}

// --- TOTP replay -------------------------------------------------------------------

bool TotpReplay::accept(const std::string& user, std::uint64_t step) {
    std::lock_guard lock(mu_);
    auto it = last_.find(user);
    if (it != last_.end() && step <= it->second) return false;
    last_[user] = step;
    return true;
}

}  // namespace depositd::api::admin
