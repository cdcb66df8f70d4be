#pragma once
// A throwaway PostgreSQL cluster for C++ tests. The cluster itself is
// tests/integration/pg_cluster.py (one implementation for the Python and the
// C++ tests: initdb as postgres, a 0700 folder postgres can reach, a free
// port, the kill -9/restart trap, a watchdog that removes it all when the
// test dies); this drives its `serve` mode over a pipe.
//
//     // once per test binary (a GoogleTest environment):
//     static auto* const pg_env = ::testing::AddGlobalTestEnvironment(new pg_test::Environment);
//
//     class MyTest : public pg_test::DatabaseTest {};   // a fresh database per test
//     TEST_F(MyTest, Works) { auto conn = connect(); ... cluster().kill9(); cluster().start(); ... }
//
// Without PostgreSQL's server binaries (/usr/lib/postgresql/15/bin, or
// $DEPOSITD_PG_BIN) every such test is skipped with the reason.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace pg_test {

class Cluster {
public:
    // Starts a cluster (initdb + start: a few seconds). available() is false
    // with skip_reason() set when there is no PostgreSQL to start.
    Cluster() {
        int to_child[2], from_child[2];
        if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe failed");
        const std::string script = std::string(DEPOSITD_SOURCE_DIR) + "/tests/integration/pg_cluster.py";
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            ::dup2(to_child[0], 0);
            ::dup2(from_child[1], 1);
            ::execlp("python3", "python3", script.c_str(), "serve", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(to_child[0]);
        ::close(from_child[1]);
        to_ = to_child[1];
        from_ = from_child[0];
        auto hello = read_answer(std::chrono::seconds(180));
        if (!hello) {
            skip_reason_ = "the test cluster (pg_cluster.py serve) did not start: " + error_;
            return;
        }
        const auto& o = hello->as_object();
        if (!o.at("ok").as_bool()) {
            skip_reason_ = std::string(o.at("error").as_string());
            if (!o.contains("skip")) failed_ = true;  // PostgreSQL is there but did not start: a failure, not a skip
            return;
        }
        port_ = static_cast<int>(o.at("port").as_int64());
        socket_dir_ = std::string(o.at("socket_dir").as_string());
        admin_url_ = std::string(o.at("admin_url").as_string());
        user_ = std::string(o.at("user").as_string());
        password_ = std::string(o.at("password").as_string());
        available_ = true;
    }
    ~Cluster() {
        // EOF on its stdin: it stops the cluster and removes its folder.
        if (to_ >= 0) ::close(to_);
        if (pid_ > 0) {
            for (int i = 0; i < 300; ++i) {  // 30 s
                if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                    pid_ = -1;
                    break;
                }
                ::usleep(100'000);
            }
            if (pid_ > 0) {
                ::kill(pid_, SIGKILL);  // its watchdog still cleans up
                ::waitpid(pid_, nullptr, 0);
            }
        }
        if (from_ >= 0) ::close(from_);
    }
    Cluster(const Cluster&) = delete;
    Cluster& operator=(const Cluster&) = delete;

    bool available() const { return available_; }
    bool failed() const { return failed_; }
    const std::string& skip_reason() const { return skip_reason_; }

    int port() const { return port_; }
    const std::string& password() const { return password_; }
    // The superuser over the Unix socket (for inspecting and for faults).
    const std::string& admin_url() const { return admin_url_; }
    std::string url(const std::string& db, int port = 0) const {
        return "postgresql://" + user_ + ":" + password_ + "@127.0.0.1:" + std::to_string(port ? port : port_) + "/" + db;
    }
    std::string admin_url_of(const std::string& db) const {
        return "postgresql:///" + db + "?host=" + socket_dir_ + "&port=" + std::to_string(port_) + "&user=postgres";
    }

    // A fresh, empty database (CREATE DATABASE ... TEMPLATE template0); its name.
    std::string create_database() { return str(command("createdb"), "name"); }
    void kill9() { command("kill9"); }   // kill -9 of the postmaster
    void start() { command("start"); }   // after kill9()/stop(): same port
    void stop(const std::string& mode = "fast") { command("stop " + mode); }
    void restart() { command("restart"); }
    // A TCP proxy to the cluster: its id; proxy_port(id) to connect through it.
    int proxy() {
        auto v = command("proxy");
        int id = static_cast<int>(v.as_object().at("id").as_int64());
        proxy_ports_.resize(static_cast<std::size_t>(id) + 1);
        proxy_ports_[static_cast<std::size_t>(id)] = static_cast<int>(v.as_object().at("port").as_int64());
        return id;
    }
    int proxy_port(int id) const { return proxy_ports_.at(static_cast<std::size_t>(id)); }
    int cut(int id) { return static_cast<int>(command("cut " + std::to_string(id)).as_object().at("cut").as_int64()); }
    // New connections: "pass", "hang" or "refuse".
    void proxy_mode(int id, const std::string& mode) { command("mode " + std::to_string(id) + " " + mode); }
    // Open connections: hold all their data / drop the server's answers / undo both.
    void freeze(int id) { command("freeze " + std::to_string(id)); }
    void mute(int id) { command("mute " + std::to_string(id)); }
    void release(int id) { command("release " + std::to_string(id)); }
    // SQL as the superuser (psql); rows of the last statement, NULL as nullopt.
    std::vector<std::vector<std::optional<std::string>>> sql(const std::string& db, const std::string& query) {
        auto v = command("sql " + db + " " + query);
        std::vector<std::vector<std::optional<std::string>>> out;
        for (const auto& row : v.as_object().at("rows").as_array()) {
            auto& r = out.emplace_back();
            for (const auto& c : row.as_array())
                r.push_back(c.is_null() ? std::nullopt : std::optional<std::string>(std::string(c.as_string())));
        }
        return out;
    }

    // Throws with the helper's error text when a command fails.
    boost::json::value command(const std::string& line) {
        if (line.find('\n') != std::string::npos) throw std::runtime_error("one line per command");
        std::string out = line + "\n";
        if (::write(to_, out.data(), out.size()) != static_cast<ssize_t>(out.size()))
            throw std::runtime_error("pg_cluster.py is gone");
        auto v = read_answer(std::chrono::seconds(120));
        if (!v) throw std::runtime_error("pg_cluster.py: no answer to '" + line + "': " + error_);
        if (!v->as_object().at("ok").as_bool())
            throw std::runtime_error("pg_cluster.py " + line + ": " + std::string(v->as_object().at("error").as_string()));
        return *v;
    }

private:
    static std::string str(const boost::json::value& v, const char* key) {
        return std::string(v.as_object().at(key).as_string());
    }

    std::optional<boost::json::value> read_answer(std::chrono::seconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                auto v = depositd::json::parse_bounded(line);
                if (!v || !v->is_object()) {
                    error_ = "not JSON: " + line;
                    return std::nullopt;
                }
                return std::move(*v);
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                error_ = "timed out";
                return std::nullopt;
            }
            pollfd p{from_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char chunk[4096];
            ssize_t n = ::read(from_, chunk, sizeof chunk);
            if (n <= 0) {
                error_ = "pg_cluster.py exited";
                return std::nullopt;
            }
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    pid_t pid_ = -1;
    int to_ = -1, from_ = -1;
    std::string buffer_, error_;
    bool available_ = false, failed_ = false;
    std::string skip_reason_;
    int port_ = 0;
    std::string socket_dir_, admin_url_, user_, password_;
    std::vector<int> proxy_ports_;
};

// The one cluster of a test binary: started before the first test, stopped after the last.
inline Cluster*& shared_cluster() {
    static Cluster* c = nullptr;
    return c;
}

class Environment : public ::testing::Environment {
public:
    void SetUp() override { shared_cluster() = new Cluster(); }
    void TearDown() override {
        delete shared_cluster();
        shared_cluster() = nullptr;
    }
};

inline Cluster& cluster() { return *shared_cluster(); }

// A test with a fresh database of its own (skipped without PostgreSQL).
class DatabaseTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_NE(shared_cluster(), nullptr) << "add pg_test::Environment to the test binary";
        if (!cluster().available()) {
            if (cluster().failed()) FAIL() << cluster().skip_reason();
            GTEST_SKIP() << "PostgreSQL tests skipped: " << cluster().skip_reason();
        }
        db_ = cluster().create_database();
    }
    const std::string& db() const { return db_; }
    std::string url(int port = 0) const { return cluster().url(db_, port); }

    std::string db_;
};

}  // namespace pg_test
