/* Consume TOPIC orderly: each queue's messages arrive one at a time, in queue order.
 *
 *   orderly_consumer NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS]
 *
 * Prints "received <queue_id> <queue_offset> <body>" per message, then "total N". With bodies
 * from `producer ... orderly` ("order-<k>:<seq>"), each order's sequence numbers print ascending. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <rmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void die(const char *what, rmq_status st) {
    char err[512];
    rmq_last_error(err, sizeof err, NULL);
    fprintf(stderr, "%s failed: %s: %s\n", what, rmq_status_str(st), err);
    exit(1);
}

#define TRY(call)                                  \
    do {                                           \
        rmq_status st_ = (call);                   \
        if (st_ != RMQ_STATUS_OK) die(#call, st_); \
    } while (0)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long received;

/* One queue at a time per queue, on the consumer's threads. */
static uint32_t on_messages(const rmq_message_ext *const *msgs, size_t count, void *userdata) {
    (void)userdata;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *body;
        size_t len;
        rmq_message_info info;
        if (rmq_message_ext_get_body(msgs[i], &body, &len) != RMQ_STATUS_OK ||
            rmq_message_ext_get_info(msgs[i], &info) != RMQ_STATUS_OK)
            return RMQ_CONSUME_RESULT_LATER; /* suspend the queue a moment, retry in order */
        pthread_mutex_lock(&lock);
        printf("received %d %lld %.*s\n", info.queue_id, (long long)info.queue_offset, (int)len, (const char *)body);
        received++;
        pthread_cond_signal(&cond);
        pthread_mutex_unlock(&lock);
    }
    return RMQ_CONSUME_RESULT_SUCCESS;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS]\n", argv[0]);
        return 2;
    }
    long expected = atol(argv[4]);
    int timeout = argc > 5 ? atoi(argv[5]) : 60;

    rmq_push_consumer *c;
    TRY(rmq_push_consumer_new(argv[3], argv[1], &c));
    TRY(rmq_push_consumer_set_consume_from(c, RMQ_CONSUME_FROM_FIRST_OFFSET, 0));
    TRY(rmq_push_consumer_subscribe(c, argv[2], "*"));
    TRY(rmq_push_consumer_set_orderly_callback(c, on_messages, NULL));
    TRY(rmq_push_consumer_start(c));

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout;
    pthread_mutex_lock(&lock);
    while (received < expected && pthread_cond_timedwait(&cond, &lock, &deadline) == 0) {
    }
    pthread_mutex_unlock(&lock);

    TRY(rmq_push_consumer_shutdown(c));
    TRY(rmq_push_consumer_destroy(c));
    printf("total %ld\n", received);
    return received >= expected ? 0 : 1;
}
