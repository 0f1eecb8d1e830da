/* Producer modes not covered by the examples, and every received-message getter:
 * selector callback, send to a queue, publish queues (buffer too small), orderly keys, send
 * results, then a pull that reads back tags, keys, properties, ids and numbers; the log callback.
 *
 *   send_modes NAMESRV TOPIC
 *
 * Prints "N passed, N failed". */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <rmq.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int passed, failed;
#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (cond) passed++;                                                                   \
        else {                                                                                \
            failed++;                                                                         \
            char e_[512];                                                                     \
            rmq_last_error(e_, sizeof e_, NULL);                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, e_); \
        }                                                                                     \
    } while (0)
#define OK(call) CHECK((call) == RMQ_STATUS_OK)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int log_records;

static void on_log(uint32_t level, const char *target, const char *message, void *userdata) {
    (void)level;
    CHECK(target != NULL && message != NULL && userdata == &log_records);
    pthread_mutex_lock(&lock);
    log_records++;
    pthread_mutex_unlock(&lock);
}

struct seen {
    size_t count;
    char topic[64];
};

/* Picks the last queue; records what it saw. Runs on the sending thread. */
static size_t pick_last(const rmq_message_queue *queues, size_t count, const rmq_message *msg, void *userdata) {
    struct seen *s = userdata;
    const char *topic = NULL;
    s->count = count;
    if (rmq_message_get_topic(msg, &topic) == RMQ_STATUS_OK) snprintf(s->topic, sizeof s->topic, "%s", topic);
    (void)queues;
    return count - 1;
}

/* A selector that cannot pick: SIZE_MAX cancels the send. */
static size_t pick_cancel(const rmq_message_queue *queues, size_t count, const rmq_message *msg, void *userdata) {
    (void)queues, (void)count, (void)msg;
    (*(int *)userdata)++;
    return SIZE_MAX;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s NAMESRV TOPIC\n", argv[0]);
        return 2;
    }
    const char *ns = argv[1], *topic = argv[2];
    OK(rmq_set_log_callback(on_log, 5, &log_records));

    rmq_producer *p;
    OK(rmq_producer_new("PG_send_modes", ns, &p));
    OK(rmq_producer_start(p));
    OK(rmq_producer_set_retry_times(p, 1) == RMQ_STATUS_ILLEGAL_STATE ? RMQ_STATUS_OK : RMQ_STATUS_PANIC);
    OK(rmq_producer_start(p) == RMQ_STATUS_ILLEGAL_STATE ? RMQ_STATUS_OK : RMQ_STATUS_PANIC);

    rmq_message *m;
    OK(rmq_message_new(topic, &m));
    OK(rmq_message_set_body(m, (const uint8_t *)"payload", 7));
    OK(rmq_message_set_tags(m, "TagX"));
    OK(rmq_message_set_keys(m, "k1 k2"));
    OK(rmq_message_put_property(m, "color", "blue"));

    /* Selector: the last of the topic's queues. */
    struct seen s = {0, ""};
    rmq_send_result r;
    OK(rmq_producer_send_with_selector(p, m, pick_last, &s, &r));
    CHECK(s.count >= 1 && strcmp(s.topic, topic) == 0);
    CHECK(r.status == RMQ_SEND_STATUS_OK && (size_t)r.queue.queue_id == s.count - 1);
    CHECK(strcmp(r.queue.topic, topic) == 0 && strlen(r.msg_id) > 0 && strlen(r.offset_msg_id) > 0);
    char selector_msg_id[RMQ_MSG_ID_MAX];
    memcpy(selector_msg_id, r.msg_id, sizeof selector_msg_id);
    /* A cancelled send: the selector ran, nothing is sent (the test counts what is stored). */
    int cancels = 0;
    rmq_send_result none;
    CHECK(rmq_producer_send_with_selector(p, m, pick_cancel, &cancels, &none) == RMQ_STATUS_INVALID_ARGUMENT);
    CHECK(cancels == 1);

    /* Publish queues: a too-small array reports the count needed. */
    rmq_message_queue one[1], all[64];
    size_t n = 0;
    CHECK(rmq_producer_fetch_publish_queues(p, topic, one, 1, &n) == RMQ_STATUS_BUFFER_TOO_SMALL);
    CHECK(n == s.count);
    OK(rmq_producer_fetch_publish_queues(p, topic, all, 64, &n));
    CHECK(n == s.count);

    /* To a chosen queue. */
    OK(rmq_producer_send_to_queue(p, m, &all[0], &r));
    CHECK(r.queue.queue_id == all[0].queue_id && strcmp(r.queue.broker_name, all[0].broker_name) == 0);

    /* Orderly: one key, one queue. */
    int32_t q0 = -1;
    for (int i = 0; i < 5; i++) {
        OK(rmq_producer_send_orderly(p, m, "order-42", &r));
        if (i == 0) q0 = r.queue.queue_id;
        CHECK(r.queue.queue_id == q0);
    }

    /* Pull back the selector's message from the last queue and read every field. */
    rmq_pull_consumer *c;
    OK(rmq_pull_consumer_new("CG_send_modes", ns, &c));
    OK(rmq_pull_consumer_start(c));
    rmq_message_queue last = all[n - 1];
    int64_t min = -1, max = -1;
    OK(rmq_pull_consumer_min_offset(c, &last, &min));
    /* The broker indexes a stored message asynchronously: wait until the queue shows it. */
    for (int i = 0; i < 100 && max < 1; i++) {
        OK(rmq_pull_consumer_max_offset(c, &last, &max));
        if (max < 1) nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    CHECK(min == 0 && max >= 1);
    rmq_pull_result *pr;
    rmq_pull_info info;
    OK(rmq_pull_consumer_pull(c, &last, "TagX", 0, 32, 1000, &pr));
    OK(rmq_pull_result_get_info(pr, &info));
    CHECK(info.status == RMQ_PULL_STATUS_FOUND && info.count >= 1);
    const rmq_message_ext *e = NULL;
    OK(rmq_pull_result_get_message(pr, 0, &e));
    CHECK(rmq_pull_result_get_message(pr, info.count, &e) == RMQ_STATUS_INVALID_ARGUMENT);
    const char *str;
    OK(rmq_message_ext_get_topic(e, &str));
    CHECK(strcmp(str, topic) == 0);
    OK(rmq_message_ext_get_tags(e, &str));
    CHECK(strcmp(str, "TagX") == 0);
    OK(rmq_message_ext_get_keys(e, &str));
    CHECK(strcmp(str, "k1 k2") == 0);
    OK(rmq_message_ext_get_property(e, "color", &str));
    CHECK(strcmp(str, "blue") == 0);
    CHECK(rmq_message_ext_get_property(e, "size", &str) == RMQ_STATUS_NOT_FOUND);
    OK(rmq_message_ext_get_msg_id(e, &str));
    CHECK(strcmp(str, selector_msg_id) == 0);
    OK(rmq_message_ext_get_offset_msg_id(e, &str));
    CHECK(strlen(str) > 0);
    OK(rmq_message_ext_get_broker_name(e, &str));
    CHECK(strcmp(str, last.broker_name) == 0);
    OK(rmq_message_ext_get_born_host(e, &str));
    CHECK(strchr(str, ':') != NULL);
    OK(rmq_message_ext_get_store_host(e, &str));
    CHECK(strchr(str, ':') != NULL);
    size_t props = 0, found = 0;
    OK(rmq_message_ext_get_property_count(e, &props));
    for (size_t i = 0; i < props; i++) {
        const char *k, *v;
        OK(rmq_message_ext_get_property_at(e, i, &k, &v));
        if (strcmp(k, "color") == 0 && strcmp(v, "blue") == 0) found++;
    }
    CHECK(found == 1);
    const uint8_t *body;
    size_t len;
    OK(rmq_message_ext_get_body(e, &body, &len));
    CHECK(len == 7 && memcmp(body, "payload", 7) == 0);
    rmq_message_info mi;
    OK(rmq_message_ext_get_info(e, &mi));
    CHECK(mi.queue_id == last.queue_id && mi.queue_offset == 0 && mi.body_len == 7 && mi.reconsume_times == 0);
    CHECK(mi.store_timestamp >= mi.born_timestamp - 1000 && mi.born_timestamp > 0);
    OK(rmq_pull_result_destroy(pr));
    CHECK(rmq_message_ext_get_topic(e, &str) == RMQ_STATUS_INVALID_HANDLE); /* gone with its result */

    /* Offsets: commit, read back; search by time. */
    OK(rmq_pull_consumer_update_offset(c, &last, 1));
    int64_t committed = -1;
    OK(rmq_pull_consumer_fetch_offset(c, &last, &committed));
    CHECK(committed == 1);
    int64_t found_off = -1;
    OK(rmq_pull_consumer_search_offset(c, &last, mi.store_timestamp, &found_off));
    CHECK(found_off >= 0 && found_off <= max);
    size_t nq = 0;
    CHECK(rmq_pull_consumer_fetch_queues(c, topic, NULL, 0, &nq) == RMQ_STATUS_BUFFER_TOO_SMALL && nq == n);

    OK(rmq_pull_consumer_destroy(c));
    OK(rmq_message_destroy(m));
    OK(rmq_producer_destroy(p));
    OK(rmq_set_log_callback(NULL, 0, NULL));
    pthread_mutex_lock(&lock);
    int records = log_records;
    pthread_mutex_unlock(&lock);
    CHECK(records > 0);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
