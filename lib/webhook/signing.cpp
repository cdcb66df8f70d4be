#include "webhook/signing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <new>

namespace depositd::webhook {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool equal_ct(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string to_hex(std::string_view bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xf]);
    }
    return out;
}

}  // namespace

std::string base64_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        std::uint32_t n = (std::uint32_t(std::uint8_t(in[i])) << 16) | (std::uint32_t(std::uint8_t(in[i + 1])) << 8) |
                          std::uint32_t(std::uint8_t(in[i + 2]));
        out.push_back(kAlphabet[(n >> 18) & 63]);
        out.push_back(kAlphabet[(n >> 12) & 63]);
        out.push_back(kAlphabet[(n >> 6) & 63]);
        out.push_back(kAlphabet[n & 63]);
    }
    std::size_t rest = in.size() - i;
    if (rest) {
        std::uint32_t n = std::uint32_t(std::uint8_t(in[i])) << 16;
        if (rest == 2) n |= std::uint32_t(std::uint8_t(in[i + 1])) << 8;
        out.push_back(kAlphabet[(n >> 18) & 63]);
        out.push_back(kAlphabet[(n >> 12) & 63]);
        out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

Result<std::string> base64_decode(std::string_view in) {
    // Padding is optional on input (some secrets are written without it).
    std::size_t len = in.size();
    while (len > 0 && in[len - 1] == '=') --len;
    if (in.size() - len > 2 || len % 4 == 1) return make_error(Errc::invalid_input, "not valid base64");
    std::string out;
    out.reserve(len * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::size_t i = 0; i < len; ++i) {
        int v = b64_value(in[i]);
        if (v < 0) return make_error(Errc::invalid_input, "not valid base64");
        acc = (acc << 6) | std::uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    return out;
}

std::string hmac_sha256(std::string_view key, std::string_view message) { return HmacSha256(key).mac({message}); }

struct HmacSha256::States {
    EVP_MD_CTX* inner = EVP_MD_CTX_new();  // SHA-256 after (key ^ ipad)
    EVP_MD_CTX* outer = EVP_MD_CTX_new();  // SHA-256 after (key ^ opad)
    States() = default;
    States(const States&) = delete;
    States& operator=(const States&) = delete;
    ~States() {
        EVP_MD_CTX_free(inner);
        EVP_MD_CTX_free(outer);
    }
};

namespace {
constexpr std::size_t kShaBlock = 64;  // SHA-256's block size (RFC 2104's B)

// Allocation failures of these contexts (a few hundred bytes) end the
// process, as any other failed allocation does.
void check(int ok) {
    if (ok != 1) throw std::bad_alloc();
}
}  // namespace

HmacSha256::HmacSha256(std::string_view key) {
    auto st = std::make_shared<States>();
    if (!st->inner || !st->outer) throw std::bad_alloc();
    // A key longer than a block is hashed first; the key is zero-padded.
    std::array<unsigned char, kShaBlock> block{};
    if (key.size() > kShaBlock) {
        unsigned int n = 0;
        check(EVP_Digest(key.data(), key.size(), block.data(), &n, EVP_sha256(), nullptr));
    } else {
        std::copy(key.begin(), key.end(), block.begin());
    }
    std::array<unsigned char, kShaBlock> pad{};
    for (std::size_t i = 0; i < kShaBlock; ++i) pad[i] = block[i] ^ 0x36;
    check(EVP_DigestInit_ex(st->inner, EVP_sha256(), nullptr));
    check(EVP_DigestUpdate(st->inner, pad.data(), pad.size()));
    for (std::size_t i = 0; i < kShaBlock; ++i) pad[i] = block[i] ^ 0x5c;
    check(EVP_DigestInit_ex(st->outer, EVP_sha256(), nullptr));
    check(EVP_DigestUpdate(st->outer, pad.data(), pad.size()));
    OPENSSL_cleanse(block.data(), block.size());
    OPENSSL_cleanse(pad.data(), pad.size());
    states_ = std::move(st);
}

std::string HmacSha256::mac(std::initializer_list<std::string_view> parts) const {
    struct Ctx {
        EVP_MD_CTX* p = EVP_MD_CTX_new();
        ~Ctx() { EVP_MD_CTX_free(p); }
    };
    thread_local Ctx ctx;  // reused: one allocation per thread, not per message
    if (!ctx.p) throw std::bad_alloc();
    std::array<unsigned char, EVP_MAX_MD_SIZE> inner{};
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int n = 0;
    check(EVP_MD_CTX_copy_ex(ctx.p, states_->inner));
    for (auto part : parts) check(EVP_DigestUpdate(ctx.p, part.data(), part.size()));
    check(EVP_DigestFinal_ex(ctx.p, inner.data(), &n));
    check(EVP_MD_CTX_copy_ex(ctx.p, states_->outer));
    check(EVP_DigestUpdate(ctx.p, inner.data(), n));
    check(EVP_DigestFinal_ex(ctx.p, out.data(), &n));
    return std::string(reinterpret_cast<const char*>(out.data()), n);
}

Result<std::string> decode_secret(std::string_view secret) {
    constexpr std::string_view prefix = "whsec_";
    if (secret.starts_with(prefix)) secret.remove_prefix(prefix.size());
    if (secret.empty()) return make_error(Errc::invalid_input, "webhook secret is empty");
    auto key = base64_decode(secret);
    if (!key) return make_error(Errc::invalid_input, "webhook secret: the part after whsec_ is not base64");
    if (key->empty()) return make_error(Errc::invalid_input, "webhook secret decodes to an empty key");
    return key;
}

namespace {
// "v1,<base64>": Standard Webhooks' id.timestamp.body, hashed in its parts.
std::string v1(const HmacSha256& key, std::string_view id, std::int64_t timestamp, std::string_view body) {
    const std::string ts = std::to_string(timestamp);
    return "v1," + base64_encode(key.mac({id, ".", ts, ".", body}));
}
}  // namespace

std::string sign_v1(std::string_view key, std::string_view id, std::int64_t timestamp, std::string_view body) {
    return v1(HmacSha256(key), id, timestamp, body);
}

std::string payin_signature(std::string_view secret, std::string_view body) {
    return to_hex(hmac_sha256(secret, body));
}

Result<Signer> Signer::create(const std::vector<std::string>& secrets) {
    if (secrets.empty()) return make_error(Errc::invalid_input, "no webhook secret configured");
    Signer s;
    for (std::size_t i = 0; i < secrets.size(); ++i) {
        auto key = decode_secret(secrets[i]);
        if (!key) return make_error(Errc::invalid_input, "secret #" + std::to_string(i + 1) + ": " + key.error().message);
        s.keys_.emplace_back(*key);
        OPENSSL_cleanse(key->data(), key->size());
    }
    s.payin_.emplace(secrets.front());
    return s;
}

std::string Signer::signature(std::string_view id, std::int64_t timestamp, std::string_view body) const {
    std::string out;
    for (const auto& key : keys_) {
        if (!out.empty()) out.push_back(' ');
        out += v1(key, id, timestamp, body);
    }
    return out;
}

std::string Signer::payin(std::string_view body) const { return to_hex(payin_->mac({body})); }

bool verify(std::string_view header, const std::vector<std::string>& secrets, std::string_view id,
            std::int64_t timestamp, std::string_view body) {
    std::vector<std::string> expected;
    for (const auto& s : secrets) {
        auto key = decode_secret(s);
        if (!key) continue;
        expected.push_back(sign_v1(*key, id, timestamp, body));
    }
    bool ok = false;
    std::size_t pos = 0;
    while (pos <= header.size()) {
        std::size_t end = header.find(' ', pos);
        if (end == std::string_view::npos) end = header.size();
        std::string_view candidate = header.substr(pos, end - pos);
        if (!candidate.empty())
            for (const auto& e : expected) ok |= equal_ct(candidate, e);
        pos = end + 1;
    }
    return ok;
}

bool verify_payin(std::string_view header, std::string_view secret, std::string_view body) {
    std::string got(header);
    for (auto& c : got) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return equal_ct(got, payin_signature(secret, body));
}

}  // namespace depositd::webhook
