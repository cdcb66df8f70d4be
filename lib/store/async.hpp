#pragma once
// Awaiting the writer thread from a coroutine on the network thread:
//
//     auto r = co_await store::async_write(store, [&](store::Database& db) { ... return Status{}; });
//
// The function runs on the writer thread; the coroutine is resumed on its own
// executor with the result. Nothing of the network thread waits meanwhile.
// Captured references must outlive the co_await (they do: the coroutine is
// suspended until the job has run).
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <type_traits>
#include <utility>

#include "store/store.hpp"

namespace depositd::store {

template <class F>
boost::asio::awaitable<std::invoke_result_t<F&, Database&>> async_write(Store& store, F fn) {
    using R = std::invoke_result_t<F&, Database&>;
    namespace asio = boost::asio;
    auto ex = co_await asio::this_coro::executor;
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(
        [&store, ex](auto handler, F f) {
            // The work guard keeps the io_context running while the job is
            // on the writer thread (nothing else may be pending meanwhile).
            auto work = asio::make_work_guard(asio::get_associated_executor(handler, ex));
            store.post(detail::make_job(std::move(f), [h = std::move(handler), work = std::move(work)](R r) mutable {
                auto target = work.get_executor();
                asio::post(target, [h = std::move(h), r = std::move(r), w = std::move(work)]() mutable {
                    std::move(h)(std::move(r));
                });
            }));
        },
        asio::use_awaitable, std::move(fn));
}

}  // namespace depositd::store
