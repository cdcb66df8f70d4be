#pragma once
// How depositd reaches a chain's nodes: the rpc URLs, extra headers and
// Bitcoin Core's cookie file of a [[chains]] entry (internal to lib/config;
// chain_nodes.cpp).
#include <map>
#include <optional>
#include <string>

#include "config/loader.hpp"

namespace depositd::config {

// rpc = ["https://…", …]: required, http(s), no duplicates.
void load_rpc(Loader& l, const Fields<ChainConfig>& f, ChainConfig& c);

// headers = { "Name" = "value" }: HTTP tokens, unique ignoring case, none
// depositd sets itself, no line breaks in values (secrets).
void load_headers(Loader& l, const toml::node& n, const std::string& key, std::map<std::string, std::string>& out);

// rpc_cookie_file = "…": kind bitcoin only, not with user:password in rpc;
// resolved against the config file's folder.
void load_cookie_file(Loader& l, const toml::node& n, const std::string& key, std::optional<Protocol> kind,
                      ChainConfig& c);

}  // namespace depositd::config
