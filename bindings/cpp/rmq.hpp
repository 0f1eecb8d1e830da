// rmq.hpp: header-only C++17 RAII wrapper over librmq's C API (rmq.h).
//
// Failures throw rmq::Error (status() and what()). Handles are owned by move-only classes whose
// destructors shut down and free them. Callbacks are std::function; they run on librmq's threads
// (see rmq.h), and an exception escaping one is caught: a consume callback then counts as
// "consume later", a send callback's exception is dropped.
#ifndef RMQ_HPP
#define RMQ_HPP

#include <rmq.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace rmq {

/// A failed librmq call: the rmq_status and librmq's error text for this thread.
class Error : public std::runtime_error {
public:
    Error(rmq_status status, const std::string &text)
        : std::runtime_error(std::string(rmq_status_str(status)) + ": " + text), status_(status) {}
    rmq_status status() const noexcept { return status_; }

private:
    rmq_status status_;
};

namespace detail {
inline std::string last_error() {
    std::string buf(512, '\0');
    size_t n = 0;
    if (rmq_last_error(&buf[0], buf.size(), &n) == RMQ_STATUS_BUFFER_TOO_SMALL) {
        buf.assign(n + 1, '\0');
        rmq_last_error(&buf[0], buf.size(), &n);
    }
    buf.resize(n < buf.size() ? n : buf.size() - 1);
    return buf;
}
inline void check(rmq_status st) {
    if (st != RMQ_STATUS_OK) throw Error(st, last_error());
}
inline std::optional<std::string> optional_str(rmq_status st, const char *s) {
    if (st == RMQ_STATUS_NOT_FOUND) return std::nullopt;
    check(st);
    return std::string(s);
}
}  // namespace detail

/// One queue of a topic.
struct MessageQueue {
    std::string topic;
    std::string broker_name;
    int32_t queue_id = 0;

    rmq_message_queue to_c() const {
        rmq_message_queue q{};
        topic.copy(q.topic, sizeof q.topic - 1);
        broker_name.copy(q.broker_name, sizeof q.broker_name - 1);
        q.queue_id = queue_id;
        return q;
    }
    static MessageQueue from_c(const rmq_message_queue &q) { return {q.topic, q.broker_name, q.queue_id}; }
};

/// The outcome of a send.
struct SendResult {
    rmq_send_status status = RMQ_SEND_STATUS_OK;
    std::string msg_id;
    std::string offset_msg_id;
    MessageQueue queue;
    int64_t queue_offset = 0;

    static SendResult from_c(const rmq_send_result &r) {
        return {r.status, r.msg_id, r.offset_msg_id, MessageQueue::from_c(r.queue), r.queue_offset};
    }
};

/// A message to send (owns an rmq_message). Setters return *this for chaining.
class Message {
public:
    explicit Message(const std::string &topic, const std::string &body = std::string()) {
        detail::check(rmq_message_new(topic.c_str(), &m_));
        if (!body.empty()) set_body(body);
    }
    Message(Message &&o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    Message &operator=(Message &&o) noexcept {
        std::swap(m_, o.m_);
        return *this;
    }
    Message(const Message &) = delete;
    Message &operator=(const Message &) = delete;
    ~Message() { rmq_message_destroy(m_); }

    Message &set_body(const void *data, size_t len) {
        detail::check(rmq_message_set_body(m_, static_cast<const uint8_t *>(data), len));
        return *this;
    }
    Message &set_body(const std::string &body) { return set_body(body.data(), body.size()); }
    Message &set_tags(const std::string &tags) {
        detail::check(rmq_message_set_tags(m_, tags.c_str()));
        return *this;
    }
    Message &set_keys(const std::string &keys) {
        detail::check(rmq_message_set_keys(m_, keys.c_str()));
        return *this;
    }
    Message &put_property(const std::string &key, const std::string &value) {
        detail::check(rmq_message_put_property(m_, key.c_str(), value.c_str()));
        return *this;
    }
    Message &set_delay_level(int32_t level) {
        detail::check(rmq_message_set_delay_level(m_, level));
        return *this;
    }
    std::string topic() const {
        const char *s = nullptr;
        detail::check(rmq_message_get_topic(m_, &s));
        return s;
    }
    std::string body() const {
        const uint8_t *d = nullptr;
        size_t n = 0;
        detail::check(rmq_message_get_body(m_, &d, &n));
        return std::string(reinterpret_cast<const char *>(d), n);
    }
    std::optional<std::string> property(const std::string &key) const {
        const char *s = nullptr;
        return detail::optional_str(rmq_message_get_property(m_, key.c_str(), &s), s);
    }
    const rmq_message *get() const noexcept { return m_; }

private:
    rmq_message *m_ = nullptr;
};

/// A received message, copied out of librmq (so it outlives the callback or pull result).
struct ReceivedMessage {
    std::string topic;
    std::string body;
    std::optional<std::string> tags;
    std::optional<std::string> keys;
    std::string msg_id;
    std::string broker_name;
    std::map<std::string, std::string> properties;
    rmq_message_info info{};

    static ReceivedMessage from_c(const rmq_message_ext *m) {
        ReceivedMessage r;
        const char *s = nullptr;
        detail::check(rmq_message_ext_get_topic(m, &s));
        r.topic = s;
        r.tags = detail::optional_str(rmq_message_ext_get_tags(m, &s), s);
        r.keys = detail::optional_str(rmq_message_ext_get_keys(m, &s), s);
        detail::check(rmq_message_ext_get_msg_id(m, &s));
        r.msg_id = s;
        detail::check(rmq_message_ext_get_broker_name(m, &s));
        r.broker_name = s;
        const uint8_t *d = nullptr;
        size_t n = 0;
        detail::check(rmq_message_ext_get_body(m, &d, &n));
        r.body.assign(reinterpret_cast<const char *>(d), n);
        size_t count = 0;
        detail::check(rmq_message_ext_get_property_count(m, &count));
        for (size_t i = 0; i < count; i++) {
            const char *k = nullptr, *v = nullptr;
            detail::check(rmq_message_ext_get_property_at(m, i, &k, &v));
            r.properties[k] = v;
        }
        detail::check(rmq_message_ext_get_info(m, &r.info));
        return r;
    }
    std::optional<std::string> property(const std::string &key) const {
        auto it = properties.find(key);
        if (it == properties.end()) return std::nullopt;
        return it->second;
    }
};

/// A producer. Configure, start(), send; the destructor shuts it down.
class Producer {
public:
    /// Async outcome: exactly one of `result` and `error` is non-null.
    using SendCallback = std::function<void(const SendResult *result, const Error *error)>;
    using Selector = std::function<size_t(const std::vector<MessageQueue> &queues, const Message &msg)>;

    Producer(const std::string &group, const std::string &namesrv) {
        detail::check(rmq_producer_new(group.c_str(), namesrv.c_str(), &p_));
    }
    Producer(Producer &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Producer(const Producer &) = delete;
    Producer &operator=(const Producer &) = delete;
    Producer &operator=(Producer &&) = delete;
    ~Producer() { rmq_producer_destroy(p_); }

    Producer &set_send_timeout_ms(uint32_t ms) {
        detail::check(rmq_producer_set_send_timeout_ms(p_, ms));
        return *this;
    }
    Producer &set_retry_times(uint32_t n) {
        detail::check(rmq_producer_set_retry_times(p_, n));
        return *this;
    }
    Producer &set_instance_name(const std::string &name) {
        detail::check(rmq_producer_set_instance_name(p_, name.c_str()));
        return *this;
    }
    /// Sign every request with ACL credentials (an account of the broker's plain_acl.yml;
    /// `channel`: the OnsChannel field Apache's C++ client sends, empty for none). Before start.
    Producer &set_session_credentials(const std::string &access_key, const std::string &secret_key,
                                   const std::string &channel = "") {
        detail::check(rmq_producer_set_session_credentials(p_, access_key.c_str(), secret_key.c_str(),
                           channel.empty() ? nullptr : channel.c_str()));
        return *this;
    }
    void start() { detail::check(rmq_producer_start(p_)); }
    void shutdown() { detail::check(rmq_producer_shutdown(p_)); }

    SendResult send(const Message &m) {
        rmq_send_result r;
        detail::check(rmq_producer_send(p_, m.get(), &r));
        return SendResult::from_c(r);
    }
    /// `cb` runs once on a librmq thread.
    void send_async(const Message &m, SendCallback cb) {
        auto *heap = new SendCallback(std::move(cb));
        rmq_status st = rmq_producer_send_async(p_, m.get(), &Producer::on_sent, heap);
        if (st != RMQ_STATUS_OK) {
            delete heap;  // not called on error
            detail::check(st);
        }
    }
    void send_oneway(const Message &m) { detail::check(rmq_producer_send_oneway(p_, m.get())); }
    SendResult send_batch(const std::vector<Message> &msgs) {
        std::vector<const rmq_message *> ptrs;
        for (const auto &m : msgs) ptrs.push_back(m.get());
        rmq_send_result r;
        detail::check(rmq_producer_send_batch(p_, ptrs.data(), ptrs.size(), &r));
        return SendResult::from_c(r);
    }
    SendResult send_to_queue(const Message &m, const MessageQueue &q) {
        rmq_message_queue cq = q.to_c();
        rmq_send_result r;
        detail::check(rmq_producer_send_to_queue(p_, m.get(), &cq, &r));
        return SendResult::from_c(r);
    }
    SendResult send_orderly(const Message &m, const std::string &sharding_key) {
        rmq_send_result r;
        detail::check(rmq_producer_send_orderly(p_, m.get(), sharding_key.c_str(), &r));
        return SendResult::from_c(r);
    }
    /// `selector` runs on this thread, during the call. An exception it throws cancels the send
    /// (nothing is sent) and is rethrown here; so does returning SIZE_MAX, as rmq::Error.
    SendResult send_with_selector(const Message &m, const Selector &selector) {
        struct Ctx {
            const Selector *sel;
            const Message *msg;
            std::exception_ptr error;
        } ctx{&selector, &m, nullptr};
        rmq_send_result r;
        rmq_status st = rmq_producer_send_with_selector(
            p_, m.get(),
            [](const rmq_message_queue *qs, size_t n, const rmq_message *, void *ud) -> size_t {
                auto *c = static_cast<Ctx *>(ud);
                try {
                    std::vector<MessageQueue> v;
                    for (size_t i = 0; i < n; i++) v.push_back(MessageQueue::from_c(qs[i]));
                    return (*c->sel)(v, *c->msg);
                } catch (...) {
                    c->error = std::current_exception();
                    return SIZE_MAX;
                }
            },
            &ctx, &r);
        if (ctx.error) std::rethrow_exception(ctx.error);
        detail::check(st);
        return SendResult::from_c(r);
    }

private:
    static void on_sent(rmq_status st, const rmq_send_result *r, void *ud) {
        std::unique_ptr<SendCallback> cb(static_cast<SendCallback *>(ud));
        try {
            if (st == RMQ_STATUS_OK) {
                SendResult res = SendResult::from_c(*r);
                (*cb)(&res, nullptr);
            } else {
                Error err(st, detail::last_error());
                (*cb)(nullptr, &err);
            }
        } catch (...) {
        }
    }
    rmq_producer *p_ = nullptr;
};

/// A transaction producer. Not movable: librmq holds a pointer to it for the check callback.
/// `check` answers the broker's checks of undecided transactions on librmq's checker thread; an
/// exception escaping it counts as RMQ_LOCAL_TX_STATE_UNKNOWN (the broker asks again later).
class TransactionProducer {
public:
    using Check = std::function<rmq_local_tx_state(const ReceivedMessage &msg)>;
    using Execute = std::function<rmq_local_tx_state(const Message &msg, const std::string &transaction_id)>;

    TransactionProducer(const std::string &group, const std::string &namesrv, Check check) : check_(std::move(check)) {
        detail::check(rmq_transaction_producer_new(group.c_str(), namesrv.c_str(), &TransactionProducer::on_check,
                                                   this, &p_));
    }
    TransactionProducer(const TransactionProducer &) = delete;
    TransactionProducer &operator=(const TransactionProducer &) = delete;
    /// Shuts down (waiting for a running check) before `check` is destroyed.
    ~TransactionProducer() { rmq_transaction_producer_destroy(p_); }

    TransactionProducer &set_send_timeout_ms(uint32_t ms) {
        detail::check(rmq_transaction_producer_set_send_timeout_ms(p_, ms));
        return *this;
    }
    TransactionProducer &set_heartbeat_interval_ms(uint32_t ms) {
        detail::check(rmq_transaction_producer_set_heartbeat_interval_ms(p_, ms));
        return *this;
    }
    TransactionProducer &set_instance_name(const std::string &name) {
        detail::check(rmq_transaction_producer_set_instance_name(p_, name.c_str()));
        return *this;
    }
    /// Sign every request with ACL credentials (an account of the broker's plain_acl.yml;
    /// `channel`: the OnsChannel field Apache's C++ client sends, empty for none). Before start.
    TransactionProducer &set_session_credentials(const std::string &access_key, const std::string &secret_key,
                                   const std::string &channel = "") {
        detail::check(rmq_transaction_producer_set_session_credentials(p_, access_key.c_str(), secret_key.c_str(),
                           channel.empty() ? nullptr : channel.c_str()));
        return *this;
    }
    void start() { detail::check(rmq_transaction_producer_start(p_)); }
    void shutdown() { detail::check(rmq_transaction_producer_shutdown(p_)); }

    /// Store `m` as a half message, run `execute` on this thread, then commit, roll back or leave
    /// it to the check. Returns the half's send result and the outcome sent; an exception from
    /// `execute` counts as RMQ_LOCAL_TX_STATE_UNKNOWN.
    std::pair<SendResult, rmq_local_tx_state> send_in_transaction(const Message &m, const Execute &execute) {
        struct Ctx {
            const Execute *ex;
            const Message *msg;
        } ctx{&execute, &m};
        rmq_send_result r;
        uint32_t state = RMQ_LOCAL_TX_STATE_UNKNOWN;
        detail::check(rmq_transaction_producer_send(
            p_, m.get(),
            [](const rmq_message *, const char *id, void *ud) -> uint32_t {
                auto *c = static_cast<Ctx *>(ud);
                try {
                    return (*c->ex)(*c->msg, id ? id : "");
                } catch (...) {
                    return RMQ_LOCAL_TX_STATE_UNKNOWN;
                }
            },
            &ctx, &r, &state));
        return {SendResult::from_c(r), static_cast<rmq_local_tx_state>(state)};
    }

private:
    static uint32_t on_check(const rmq_message_ext *m, void *ud) {
        auto *self = static_cast<TransactionProducer *>(ud);
        try {
            return self->check_(ReceivedMessage::from_c(m));
        } catch (...) {
            return RMQ_LOCAL_TX_STATE_UNKNOWN;
        }
    }
    Check check_;
    rmq_transaction_producer *p_ = nullptr;
};

/// A push consumer. Not movable: librmq holds a pointer to it for the callback.
class PushConsumer {
public:
    /// Return RMQ_CONSUME_RESULT_SUCCESS or RMQ_CONSUME_RESULT_LATER.
    using Listener = std::function<rmq_consume_result(const ReceivedMessage &msg)>;

    PushConsumer(const std::string &group, const std::string &namesrv) {
        detail::check(rmq_push_consumer_new(group.c_str(), namesrv.c_str(), &c_));
    }
    PushConsumer(const PushConsumer &) = delete;
    PushConsumer &operator=(const PushConsumer &) = delete;
    /// Shuts down (waiting for running callbacks) before the listener is destroyed.
    ~PushConsumer() { rmq_push_consumer_destroy(c_); }

    /// Sign every request with ACL credentials (an account of the broker's plain_acl.yml;
    /// `channel`: the OnsChannel field Apache's C++ client sends, empty for none). Before start.
    PushConsumer &set_session_credentials(const std::string &access_key, const std::string &secret_key,
                                   const std::string &channel = "") {
        detail::check(rmq_push_consumer_set_session_credentials(c_, access_key.c_str(), secret_key.c_str(),
                           channel.empty() ? nullptr : channel.c_str()));
        return *this;
    }
    PushConsumer &set_message_model(rmq_message_model m) {
        detail::check(rmq_push_consumer_set_message_model(c_, m));
        return *this;
    }
    PushConsumer &set_consume_from(rmq_consume_from f, int64_t timestamp_ms = 0) {
        detail::check(rmq_push_consumer_set_consume_from(c_, f, timestamp_ms));
        return *this;
    }
    PushConsumer &set_thread_count(uint32_t n) {
        detail::check(rmq_push_consumer_set_thread_count(c_, n));
        return *this;
    }
    PushConsumer &set_max_batch_size(uint32_t n) {
        detail::check(rmq_push_consumer_set_max_batch_size(c_, n));
        return *this;
    }
    PushConsumer &subscribe(const std::string &topic, const std::string &expr = "*") {
        detail::check(rmq_push_consumer_subscribe(c_, topic.c_str(), expr.c_str()));
        return *this;
    }
    /// Concurrent (or, with `orderly`, per-queue ordered) consumption through `l`.
    PushConsumer &on_message(Listener l, bool orderly = false) {
        listener_ = std::move(l);
        auto set = orderly ? rmq_push_consumer_set_orderly_callback : rmq_push_consumer_set_message_callback;
        detail::check(set(c_, &PushConsumer::on_messages, this));
        return *this;
    }
    void start() { detail::check(rmq_push_consumer_start(c_)); }
    void shutdown() { detail::check(rmq_push_consumer_shutdown(c_)); }

private:
    static uint32_t on_messages(const rmq_message_ext *const *msgs, size_t n, void *ud) {
        auto *self = static_cast<PushConsumer *>(ud);
        try {
            for (size_t i = 0; i < n; i++) {
                if (self->listener_(ReceivedMessage::from_c(msgs[i])) != RMQ_CONSUME_RESULT_SUCCESS)
                    return RMQ_CONSUME_RESULT_LATER;
            }
            return RMQ_CONSUME_RESULT_SUCCESS;
        } catch (...) {
            return RMQ_CONSUME_RESULT_LATER;
        }
    }
    rmq_push_consumer *c_ = nullptr;
    Listener listener_;
};

/// The outcome of one pull, with owned copies of its messages.
struct PullResult {
    rmq_pull_status status = RMQ_PULL_STATUS_NO_NEW_MSG;
    int64_t next_begin_offset = 0;
    int64_t min_offset = 0;
    int64_t max_offset = 0;
    std::vector<ReceivedMessage> messages;
};

/// A pull consumer.
class PullConsumer {
public:
    PullConsumer(const std::string &group, const std::string &namesrv) {
        detail::check(rmq_pull_consumer_new(group.c_str(), namesrv.c_str(), &c_));
    }
    PullConsumer(PullConsumer &&o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    PullConsumer(const PullConsumer &) = delete;
    PullConsumer &operator=(const PullConsumer &) = delete;
    PullConsumer &operator=(PullConsumer &&) = delete;
    ~PullConsumer() { rmq_pull_consumer_destroy(c_); }

    /// Sign every request with ACL credentials (an account of the broker's plain_acl.yml;
    /// `channel`: the OnsChannel field Apache's C++ client sends, empty for none). Before start.
    PullConsumer &set_session_credentials(const std::string &access_key, const std::string &secret_key,
                                   const std::string &channel = "") {
        detail::check(rmq_pull_consumer_set_session_credentials(c_, access_key.c_str(), secret_key.c_str(),
                           channel.empty() ? nullptr : channel.c_str()));
        return *this;
    }
    void start() { detail::check(rmq_pull_consumer_start(c_)); }
    void shutdown() { detail::check(rmq_pull_consumer_shutdown(c_)); }

    std::vector<MessageQueue> fetch_queues(const std::string &topic) {
        size_t n = 0;
        std::vector<rmq_message_queue> qs(16);
        rmq_status st = rmq_pull_consumer_fetch_queues(c_, topic.c_str(), qs.data(), qs.size(), &n);
        if (st == RMQ_STATUS_BUFFER_TOO_SMALL) {
            qs.resize(n);
            st = rmq_pull_consumer_fetch_queues(c_, topic.c_str(), qs.data(), qs.size(), &n);
        }
        detail::check(st);
        std::vector<MessageQueue> out;
        for (size_t i = 0; i < n; i++) out.push_back(MessageQueue::from_c(qs[i]));
        return out;
    }
    PullResult pull(const MessageQueue &q, int64_t offset, const std::string &expr = "*", uint32_t max_nums = 32,
                    uint32_t timeout_ms = 1000) {
        rmq_message_queue cq = q.to_c();
        rmq_pull_result *r = nullptr;
        detail::check(rmq_pull_consumer_pull(c_, &cq, expr.c_str(), offset, max_nums, timeout_ms, &r));
        std::unique_ptr<rmq_pull_result, rmq_status (*)(rmq_pull_result *)> guard(r, rmq_pull_result_destroy);
        rmq_pull_info info;
        detail::check(rmq_pull_result_get_info(r, &info));
        PullResult out{info.status, info.next_begin_offset, info.min_offset, info.max_offset, {}};
        for (size_t i = 0; i < info.count; i++) {
            const rmq_message_ext *m = nullptr;
            detail::check(rmq_pull_result_get_message(r, i, &m));
            out.messages.push_back(ReceivedMessage::from_c(m));
        }
        return out;
    }
    int64_t fetch_offset(const MessageQueue &q) {
        rmq_message_queue cq = q.to_c();
        int64_t v = 0;
        detail::check(rmq_pull_consumer_fetch_offset(c_, &cq, &v));
        return v;
    }
    void update_offset(const MessageQueue &q, int64_t offset) {
        rmq_message_queue cq = q.to_c();
        detail::check(rmq_pull_consumer_update_offset(c_, &cq, offset));
    }
    int64_t max_offset(const MessageQueue &q) {
        rmq_message_queue cq = q.to_c();
        int64_t v = 0;
        detail::check(rmq_pull_consumer_max_offset(c_, &cq, &v));
        return v;
    }

private:
    rmq_pull_consumer *c_ = nullptr;
};

}  // namespace rmq

#endif  // RMQ_HPP
