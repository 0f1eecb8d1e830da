// Transactional messages with the C++ wrapper: one committed, one rolled back, one left UNKNOWN
// and then committed by the broker's check-back.
//
//   transaction_producer NAMESRV TOPIC
//
// Prints one line per send ("sent BODY STATE MSGID") and "checked BODY" per check; exits 0 once
// the undecided transaction was checked, 1 if that took longer than 30 s.
#include <rmq.hpp>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <set>

int main(int argc, char **argv) {
    if (argc < 3) {
        std::cerr << "usage: " << argv[0] << " NAMESRV TOPIC\n";
        return 2;
    }
    const std::string topic = argv[2];
    std::mutex lock;
    std::condition_variable cv;
    std::set<std::string> checked;
    try {
        rmq::TransactionProducer producer("PG_cpp_tx", argv[1], [&](const rmq::ReceivedMessage &m) {
            std::lock_guard<std::mutex> g(lock);
            std::cout << "checked " << m.body << std::endl;
            checked.insert(m.body);
            cv.notify_all();
            return m.body.rfind("unknown", 0) == 0 ? RMQ_LOCAL_TX_STATE_COMMIT : RMQ_LOCAL_TX_STATE_UNKNOWN;
        });
        producer.set_instance_name("cpp-tx").set_heartbeat_interval_ms(300).start();
        for (const char *body : {"commit-0", "rollback-0", "unknown-0"}) {
            rmq::Message msg(topic, body);
            auto [result, state] = producer.send_in_transaction(msg, [](const rmq::Message &m, const std::string &) {
                std::string b = m.body();
                if (b.rfind("commit", 0) == 0) return RMQ_LOCAL_TX_STATE_COMMIT;
                if (b.rfind("rollback", 0) == 0) return RMQ_LOCAL_TX_STATE_ROLLBACK;
                return RMQ_LOCAL_TX_STATE_UNKNOWN;
            });
            std::lock_guard<std::mutex> g(lock);
            std::cout << "sent " << body << " " << state << " " << result.msg_id << std::endl;
        }
        std::unique_lock<std::mutex> g(lock);
        if (!cv.wait_for(g, std::chrono::seconds(30), [&] { return checked.count("unknown-0") > 0; })) {
            std::cerr << "no check of unknown-0 within 30 s\n";
            return 1;
        }
    } catch (const rmq::Error &e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    return 0;
}
