// ACL through the C++ wrapper (bindings/cpp/rmq.hpp) on librmq: set_session_credentials signs.
//
//   acl NAMESRV TOPIC ACCESS_KEY SECRET_KEY WRONG_SECRET COUNT
//
// Sends COUNT messages with the right secret ("sent N"), one with the wrong secret ("refused:
// <error>" or "accepted"), then pulls the COUNT messages back with the right secret
// ("pulled N").
#include <rmq.hpp>

#include <cstdlib>
#include <iostream>
#include <map>

int main(int argc, char **argv) {
    if (argc < 7) {
        std::cerr << "usage: " << argv[0] << " NAMESRV TOPIC AK SK WRONG_SK COUNT\n";
        return 2;
    }
    const std::string ns = argv[1], topic = argv[2], ak = argv[3], sk = argv[4], bad = argv[5];
    const long count = std::atol(argv[6]);
    try {
        rmq::Producer p("PG_acl_cpp_wrapper", ns);
        p.set_session_credentials(ak, sk).set_retry_times(0).start();
        long sent = 0;
        for (long i = 0; i < count; i++) {
            rmq::SendResult r = p.send(rmq::Message(topic, "acl-hpp-" + std::to_string(i)));
            if (r.status == RMQ_SEND_STATUS_OK) sent++;
        }
        p.shutdown();
        std::cout << "sent " << sent << std::endl;

        rmq::Producer wrong("PG_acl_cpp_wrapper_bad", ns);
        wrong.set_instance_name("bad").set_session_credentials(ak, bad, "ALIYUN").set_retry_times(0).start();
        try {
            wrong.send(rmq::Message(topic, "never"));
            std::cout << "accepted" << std::endl;
        } catch (const rmq::Error &e) {
            std::cout << "refused: " << e.what() << std::endl;
        }
        wrong.shutdown();

        rmq::PullConsumer c("GID_acl_cpp_wrapper", ns);
        c.set_session_credentials(ak, sk).start();
        long pulled = 0;
        for (int round = 0; round < 50 && pulled < count; round++) {
            for (const rmq::MessageQueue &q : c.fetch_queues(topic)) {
                pulled += static_cast<long>(c.pull(q, 0, "*", 32, 1000).messages.size());
            }
            if (pulled < count) pulled = 0;
        }
        c.shutdown();
        std::cout << "pulled " << pulled << std::endl;
    } catch (const rmq::Error &e) {
        std::cerr << "error: " << e.what() << std::endl;
        return 1;
    }
    return 0;
}
