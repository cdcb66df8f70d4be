#include "webhook/signing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cctype>

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

std::string signed_content(std::string_view id, std::int64_t timestamp, std::string_view body) {
    std::string ts = std::to_string(timestamp);
    std::string msg;
    msg.reserve(id.size() + ts.size() + body.size() + 2);
    msg.append(id).push_back('.');
    msg.append(ts).push_back('.');
    msg.append(body);
    return msg;
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

std::string hmac_sha256(std::string_view key, std::string_view message) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int md_len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
         message.size(), md.data(), &md_len);
    return std::string(reinterpret_cast<const char*>(md.data()), md_len);
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

std::string sign_v1(std::string_view key, std::string_view id, std::int64_t timestamp, std::string_view body) {
    return "v1," + base64_encode(hmac_sha256(key, signed_content(id, timestamp, body)));
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
        s.keys_.push_back(std::move(*key));
    }
    s.payin_secret_ = secrets.front();
    return s;
}

std::string Signer::signature(std::string_view id, std::int64_t timestamp, std::string_view body) const {
    std::string content = signed_content(id, timestamp, body);
    std::string out;
    for (const auto& key : keys_) {
        if (!out.empty()) out.push_back(' ');
        out += "v1,";
        out += base64_encode(hmac_sha256(key, content));
    }
    return out;
}

std::string Signer::payin(std::string_view body) const { return payin_signature(payin_secret_, body); }

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
