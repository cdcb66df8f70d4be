#pragma once
// The sections of the configuration file (internal to lib/config). Each
// section_<name>.cpp defines, for its [name] table:
//   <name>_key(name)    the flags of one of its keys (its key table), or
//                       nullopt when the section has no such key
//   load_<name>(...)    reads its table from the document into the Config
//   print_<name>(...)   writes it back as TOML (to_toml, --print-config)
// config.cpp lists them once, in file order (kSections): that list is the
// top-level unknown-key check, the load and print order and reads_key's
// lookup.
#include <optional>
#include <string_view>

#include <toml++/toml.h>

#include "config/config.hpp"
#include "config/keys.hpp"
#include "config/loader.hpp"

namespace depositd::config {

class Printer;

// The flags of a dotted key ("chains[0].headers.X-Key" -> chains' "headers"),
// from its section's key table; nullopt for a key no table declares. A
// section may declare the keys of its tables of tables under a dotted name
// ("admin.users[0].password_hash" -> admin's "users.password_hash"), indices
// left out; keys it does not declare take the flags of the key above them.
std::optional<Flags> key_flags(std::string_view dotted);

std::optional<Flags> daemon_key(std::string_view name);
void load_daemon(Loader& l, const toml::table& root, Config& cfg);
void print_daemon(Printer& p, const Config& cfg);

std::optional<Flags> store_key(std::string_view name);
void load_store(Loader& l, const toml::table& root, Config& cfg);
void print_store(Printer& p, const Config& cfg);

std::optional<Flags> api_key(std::string_view name);
void load_api(Loader& l, const toml::table& root, Config& cfg);
void print_api(Printer& p, const Config& cfg);

std::optional<Flags> webhook_key(std::string_view name);
void load_webhook(Loader& l, const toml::table& root, Config& cfg);
void print_webhook(Printer& p, const Config& cfg);

std::optional<Flags> chains_key(std::string_view name);
void load_chains(Loader& l, const toml::table& root, Config& cfg);
void print_chains(Printer& p, const Config& cfg);

std::optional<Flags> pool_key(std::string_view name);
void load_pool(Loader& l, const toml::table& root, Config& cfg);
void print_pool(Printer& p, const Config& cfg);

// After [[chains]]: `default` and `receive` name configured chains.
std::optional<Flags> orders_key(std::string_view name);
void load_orders(Loader& l, const toml::table& root, Config& cfg);
void print_orders(Printer& p, const Config& cfg);

std::optional<Flags> merchant_key(std::string_view name);
void load_merchant(Loader& l, const toml::table& root, Config& cfg);
void print_merchant(Printer& p, const Config& cfg);

// [admin]: the console's users; "users.<key>" names a key of a user's table.
std::optional<Flags> admin_key(std::string_view name);
void load_admin(Loader& l, const toml::table& root, Config& cfg);
void print_admin(Printer& p, const Config& cfg);

// [notify] with [notify.telegram]; "telegram.<key>" names a key of the latter.
std::optional<Flags> notify_key(std::string_view name);
void load_notify(Loader& l, const toml::table& root, Config& cfg);
void print_notify(Printer& p, const Config& cfg);

}  // namespace depositd::config
