/* Bad input over the C ABI gets a status, never a crash (issue 6). Needs no broker.
 * Built by tests/it/ffi.rs with -std=c99 -Wall -Wextra -Werror and run plain and under valgrind. */
#include <rmq.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                  \
    } while (0)

#define EXPECT(call, status) CHECK((call) == (status))

static int last_error_contains(const char *needle) {
    char buf[512];
    size_t n = 0;
    if (rmq_last_error(buf, sizeof buf, &n) != RMQ_STATUS_OK) return 0;
    return strstr(buf, needle) != NULL;
}

static size_t pick_first(const rmq_message_queue *queues, size_t count, const rmq_message *msg, void *userdata) {
    (void)queues; (void)count; (void)msg; (void)userdata;
    return 0;
}

static uint32_t on_messages(const rmq_message_ext *const *msgs, size_t count, void *userdata) {
    (void)msgs; (void)count; (void)userdata;
    return RMQ_CONSUME_RESULT_SUCCESS;
}

int main(void) {
    rmq_message *m = NULL;
    const char *s = NULL;
    const uint8_t *data = NULL;
    size_t len = 0;
    int32_t level = -1;

    /* Strings: NULL, invalid UTF-8, empty. */
    EXPECT(rmq_message_new(NULL, &m), RMQ_STATUS_NULL_POINTER);
    CHECK(last_error_contains("topic is NULL"));
    EXPECT(rmq_message_new("T", NULL), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_message_new("\xff\xfe", &m), RMQ_STATUS_INVALID_UTF8);
    CHECK(last_error_contains("UTF-8"));
    EXPECT(rmq_message_new("", &m), RMQ_STATUS_INVALID_ARGUMENT);
    CHECK(m == NULL); /* outputs are written only on success */

    /* A message round trip, body with NUL bytes inside. */
    EXPECT(rmq_message_new("TopicA", &m), RMQ_STATUS_OK);
    CHECK(m != NULL);
    const uint8_t body[6] = {'a', 0, 'b', 0, 0xff, 'c'};
    EXPECT(rmq_message_set_body(m, body, sizeof body), RMQ_STATUS_OK);
    EXPECT(rmq_message_get_body(m, &data, &len), RMQ_STATUS_OK);
    CHECK(len == 6 && memcmp(data, body, 6) == 0);
    EXPECT(rmq_message_get_tags(m, &s), RMQ_STATUS_NOT_FOUND);
    EXPECT(rmq_message_set_tags(m, "TagA"), RMQ_STATUS_OK);
    EXPECT(rmq_message_get_tags(m, &s), RMQ_STATUS_OK);
    CHECK(strcmp(s, "TagA") == 0);
    EXPECT(rmq_message_set_keys(m, "k1 k2"), RMQ_STATUS_OK);
    EXPECT(rmq_message_get_keys(m, &s), RMQ_STATUS_OK);
    CHECK(strcmp(s, "k1 k2") == 0);
    EXPECT(rmq_message_put_property(m, "color", "blue"), RMQ_STATUS_OK);
    EXPECT(rmq_message_get_property(m, "color", &s), RMQ_STATUS_OK);
    CHECK(strcmp(s, "blue") == 0);
    EXPECT(rmq_message_get_property(m, "size", &s), RMQ_STATUS_NOT_FOUND);
    EXPECT(rmq_message_put_property(m, "", "x"), RMQ_STATUS_INVALID_ARGUMENT);
    EXPECT(rmq_message_put_property(m, "k", NULL), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_message_set_delay_level(m, 3), RMQ_STATUS_OK);
    EXPECT(rmq_message_get_delay_level(m, &level), RMQ_STATUS_OK);
    CHECK(level == 3);
    EXPECT(rmq_message_set_delay_level(m, -1), RMQ_STATUS_INVALID_ARGUMENT);
    EXPECT(rmq_message_get_topic(m, &s), RMQ_STATUS_OK);
    CHECK(strcmp(s, "TopicA") == 0);
    EXPECT(rmq_message_set_topic(m, "TopicB"), RMQ_STATUS_OK);
    EXPECT(rmq_message_get_topic(m, &s), RMQ_STATUS_OK);
    CHECK(strcmp(s, "TopicB") == 0);

    /* Bodies: a length past any buffer, NULL with a length, NULL outputs. */
    EXPECT(rmq_message_set_body(m, body, SIZE_MAX), RMQ_STATUS_INVALID_ARGUMENT);
    EXPECT(rmq_message_set_body(m, body, (size_t)RMQ_MAX_BODY_SIZE + 1), RMQ_STATUS_INVALID_ARGUMENT);
    CHECK(last_error_contains("limit"));
    EXPECT(rmq_message_set_body(m, NULL, 5), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_message_set_body(m, NULL, 0), RMQ_STATUS_OK);
    EXPECT(rmq_message_get_body(m, NULL, &len), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_message_get_body(m, &data, NULL), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_message_get_body(m, &data, &len), RMQ_STATUS_OK);
    CHECK(len == 0);
    EXPECT(rmq_message_get_topic(m, NULL), RMQ_STATUS_NULL_POINTER);

    /* Handles: NULL, destroyed, twice, of the wrong type, made up. */
    EXPECT(rmq_message_destroy(NULL), RMQ_STATUS_OK);
    EXPECT(rmq_message_set_tags(NULL, "x"), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_producer_send_oneway((rmq_producer *)m, m), RMQ_STATUS_INVALID_HANDLE);
    EXPECT(rmq_message_set_tags((rmq_message *)(uintptr_t)0x12345670, "x"), RMQ_STATUS_INVALID_HANDLE);
    EXPECT(rmq_message_destroy(m), RMQ_STATUS_OK);
    EXPECT(rmq_message_destroy(m), RMQ_STATUS_INVALID_HANDLE);
    CHECK(last_error_contains("not a live handle"));
    EXPECT(rmq_message_get_topic(m, &s), RMQ_STATUS_INVALID_HANDLE);
    EXPECT(rmq_message_set_body(m, body, 1), RMQ_STATUS_INVALID_HANDLE);

    /* Producer: arguments, state. */
    rmq_producer *p = NULL;
    EXPECT(rmq_producer_new(NULL, "127.0.0.1:9", &p), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_producer_new("G", NULL, &p), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_producer_new("", "127.0.0.1:9", &p), RMQ_STATUS_INVALID_ARGUMENT);
    EXPECT(rmq_producer_new("G", "127.0.0.1:9", &p), RMQ_STATUS_OK);
    EXPECT(rmq_producer_set_send_timeout_ms(p, 0), RMQ_STATUS_INVALID_ARGUMENT);
    EXPECT(rmq_producer_set_max_message_size(p, 0), RMQ_STATUS_INVALID_ARGUMENT);
    EXPECT(rmq_producer_set_instance_name(p, "\xc3\x28"), RMQ_STATUS_INVALID_UTF8);
    EXPECT(rmq_message_new("T", &m), RMQ_STATUS_OK);
    rmq_send_result result;
    EXPECT(rmq_producer_send(p, m, &result), RMQ_STATUS_NOT_STARTED);
    EXPECT(rmq_producer_send(p, m, NULL), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_producer_send(p, NULL, &result), RMQ_STATUS_NOT_STARTED);
    EXPECT(rmq_producer_send_async(p, m, NULL, NULL), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_producer_send_with_selector(p, m, NULL, NULL, &result), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_producer_send_with_selector(p, m, pick_first, NULL, &result), RMQ_STATUS_NOT_STARTED);
    EXPECT(rmq_producer_send_orderly(p, m, NULL, &result), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_producer_send_batch(p, NULL, 3, &result), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_producer_send_batch(p, (const rmq_message *const *)&m, 0, &result), RMQ_STATUS_INVALID_ARGUMENT);
    EXPECT(rmq_producer_send_to_queue(p, m, NULL, &result), RMQ_STATUS_NULL_POINTER);
    rmq_message_queue q;
    memset(&q, 'x', sizeof q); /* names without a NUL inside */
    EXPECT(rmq_producer_send_to_queue(p, m, &q, &result), RMQ_STATUS_INVALID_ARGUMENT);
    size_t count = 0;
    EXPECT(rmq_producer_fetch_publish_queues(p, "T", NULL, 0, NULL), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_producer_fetch_publish_queues(p, "T", NULL, 0, &count), RMQ_STATUS_NOT_STARTED);
    EXPECT(rmq_producer_shutdown(p), RMQ_STATUS_OK);
    EXPECT(rmq_producer_shutdown(p), RMQ_STATUS_OK); /* idempotent */
    EXPECT(rmq_producer_send(p, m, &result), RMQ_STATUS_SHUTDOWN);
    EXPECT(rmq_producer_start(p), RMQ_STATUS_SHUTDOWN);
    EXPECT(rmq_producer_destroy(p), RMQ_STATUS_OK);
    EXPECT(rmq_producer_destroy(p), RMQ_STATUS_INVALID_HANDLE);
    EXPECT(rmq_producer_destroy(NULL), RMQ_STATUS_OK);

    /* Push consumer: arguments, values out of range, start without subscription or callback. */
    rmq_push_consumer *c = NULL;
    EXPECT(rmq_push_consumer_new("CG", "127.0.0.1:9", NULL), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_push_consumer_new("CG", "127.0.0.1:9", &c), RMQ_STATUS_OK);
    EXPECT(rmq_push_consumer_set_message_model(c, 7), RMQ_STATUS_INVALID_ARGUMENT);
    EXPECT(rmq_push_consumer_set_consume_from(c, 9, 0), RMQ_STATUS_INVALID_ARGUMENT);
    EXPECT(rmq_push_consumer_set_thread_count(c, 0), RMQ_STATUS_INVALID_ARGUMENT);
    EXPECT(rmq_push_consumer_set_max_batch_size(c, 0), RMQ_STATUS_INVALID_ARGUMENT);
    EXPECT(rmq_push_consumer_set_message_callback(c, NULL, NULL), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_push_consumer_start(c), RMQ_STATUS_ILLEGAL_STATE);
    CHECK(last_error_contains("subscribe"));
    EXPECT(rmq_push_consumer_subscribe(c, "T", NULL), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_push_consumer_subscribe(c, "", "*"), RMQ_STATUS_INVALID_ARGUMENT);
    EXPECT(rmq_push_consumer_subscribe(c, "T", "*"), RMQ_STATUS_OK);
    EXPECT(rmq_push_consumer_start(c), RMQ_STATUS_ILLEGAL_STATE);
    CHECK(last_error_contains("callback"));
    EXPECT(rmq_push_consumer_set_orderly_callback(c, on_messages, NULL), RMQ_STATUS_OK);
    EXPECT(rmq_push_consumer_destroy(c), RMQ_STATUS_OK);
    EXPECT(rmq_push_consumer_destroy(c), RMQ_STATUS_INVALID_HANDLE);

    /* Pull consumer and pull results. */
    rmq_pull_consumer *pc = NULL;
    rmq_pull_result *r = NULL;
    EXPECT(rmq_pull_consumer_new("PCG", "127.0.0.1:9", &pc), RMQ_STATUS_OK);
    EXPECT(rmq_pull_consumer_set_message_model(pc, 2), RMQ_STATUS_INVALID_ARGUMENT);
    EXPECT(rmq_pull_consumer_pull(pc, NULL, "*", 0, 32, 100, &r), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_pull_consumer_pull(pc, &q, "*", 0, 32, 100, &r), RMQ_STATUS_INVALID_ARGUMENT);
    memset(&q, 0, sizeof q);
    strcpy(q.topic, "T");
    strcpy(q.broker_name, "b");
    EXPECT(rmq_pull_consumer_pull(pc, &q, "*", 0, 0, 100, &r), RMQ_STATUS_INVALID_ARGUMENT);
    EXPECT(rmq_pull_consumer_pull(pc, &q, "*", -1, 32, 100, &r), RMQ_STATUS_INVALID_ARGUMENT);
    EXPECT(rmq_pull_consumer_pull(pc, &q, "*", 0, 32, 100, &r), RMQ_STATUS_NOT_STARTED);
    EXPECT(rmq_pull_consumer_update_offset(pc, &q, -5), RMQ_STATUS_INVALID_ARGUMENT);
    int64_t off = 0;
    EXPECT(rmq_pull_consumer_fetch_offset(pc, &q, NULL), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_pull_consumer_fetch_offset(pc, &q, &off), RMQ_STATUS_NOT_STARTED);
    EXPECT(rmq_pull_result_destroy(NULL), RMQ_STATUS_OK);
    EXPECT(rmq_pull_result_destroy((rmq_pull_result *)pc), RMQ_STATUS_INVALID_HANDLE);
    EXPECT(rmq_pull_consumer_destroy(pc), RMQ_STATUS_OK);
    EXPECT(rmq_pull_consumer_destroy(pc), RMQ_STATUS_INVALID_HANDLE);

    /* Received-message getters on something that is not a received message. */
    rmq_message_info info;
    EXPECT(rmq_message_ext_get_info((const rmq_message_ext *)m, &info), RMQ_STATUS_INVALID_HANDLE);
    EXPECT(rmq_message_ext_get_topic(NULL, &s), RMQ_STATUS_NULL_POINTER);
    EXPECT(rmq_message_destroy(m), RMQ_STATUS_OK);

    /* The last error: truncation, and status names. */
    EXPECT(rmq_message_new(NULL, &m), RMQ_STATUS_NULL_POINTER);
    char small[4];
    size_t full = 0;
    EXPECT(rmq_last_error(small, sizeof small, &full), RMQ_STATUS_BUFFER_TOO_SMALL);
    CHECK(strcmp(small, "top") == 0 && full == strlen("topic is NULL"));
    EXPECT(rmq_last_error(NULL, 10, &full), RMQ_STATUS_NULL_POINTER);
    CHECK(strcmp(rmq_status_str(RMQ_STATUS_TIMEOUT), "RMQ_STATUS_TIMEOUT") == 0);
    CHECK(strcmp(rmq_status_str(12345), "RMQ_STATUS_UNKNOWN") == 0);
    CHECK(strlen(rmq_version()) > 0);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
