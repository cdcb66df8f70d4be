#pragma once
// Password hashes of the console's users: argon2id in the PHC string
// format ("$argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>") through
// libsodium's crypto_pwhash_str / crypto_pwhash_str_verify.
//
// Verifying takes tens of milliseconds and 64 MiB of memory by design:
// call it on a worker thread, never on one that serves sockets.
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace depositd::codec {

// A new argon2id hash of `password` with libsodium's interactive limits
// (ops 2, 64 MiB), a random salt. Errc::invalid_input for an empty or
// over-long (> 4096 bytes) password; Errc::internal when memory fails.
Result<std::string> hash_password(std::string_view password);

// A hash of `password` with the same cost (memory, passes) as `model`, an
// argon2id string; the interactive limits when `model` cannot be read. The
// console verifies unknown user names against such a hash, so that a wrong
// name takes as long as a wrong password.
Result<std::string> hash_password_like(std::string_view password, std::string_view model);

// True when `password` matches `hash` (constant time inside libsodium).
// A malformed hash never matches.
bool verify_password(std::string_view hash, std::string_view password);

// Whether `hash` is an argon2id string libsodium can verify (the config
// loader checks the shape; this asks libsodium itself).
bool valid_password_hash(std::string_view hash);

}  // namespace depositd::codec
