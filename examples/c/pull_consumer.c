/* Pull every queue of TOPIC from the group's committed offset (or 0) until EXPECTED messages
 * arrived, committing offsets as it goes.
 *
 *   pull_consumer NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS]
 *
 * Prints "received <queue_id> <queue_offset> <body>" per message, then "total N". */
#define _POSIX_C_SOURCE 200809L
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

#define MAX_QUEUES 64

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS]\n", argv[0]);
        return 2;
    }
    long expected = atol(argv[4]);
    time_t end = time(NULL) + (argc > 5 ? atoi(argv[5]) : 60);

    rmq_pull_consumer *c;
    TRY(rmq_pull_consumer_new(argv[3], argv[1], &c));
    TRY(rmq_pull_consumer_start(c));

    rmq_message_queue queues[MAX_QUEUES]; /* caller-owned */
    int64_t next[MAX_QUEUES];
    size_t nq = 0;
    TRY(rmq_pull_consumer_fetch_queues(c, argv[2], queues, MAX_QUEUES, &nq));
    for (size_t q = 0; q < nq; q++) {
        TRY(rmq_pull_consumer_fetch_offset(c, &queues[q], &next[q]));
        if (next[q] < 0) next[q] = 0; /* nothing committed yet */
    }

    long received = 0;
    while (received < expected && time(NULL) < end) {
        for (size_t q = 0; q < nq; q++) {
            rmq_pull_result *r;
            rmq_pull_info info;
            TRY(rmq_pull_consumer_pull(c, &queues[q], "*", next[q], 32, 1000, &r));
            TRY(rmq_pull_result_get_info(r, &info));
            for (size_t i = 0; i < info.count; i++) {
                const rmq_message_ext *m; /* owned by r */
                const uint8_t *body;
                size_t len;
                rmq_message_info mi;
                TRY(rmq_pull_result_get_message(r, i, &m));
                TRY(rmq_message_ext_get_body(m, &body, &len));
                TRY(rmq_message_ext_get_info(m, &mi));
                printf("received %d %lld %.*s\n", mi.queue_id, (long long)mi.queue_offset, (int)len, (const char *)body);
                received++;
            }
            if (info.status == RMQ_PULL_STATUS_FOUND || info.status == RMQ_PULL_STATUS_OFFSET_ILLEGAL ||
                info.status == RMQ_PULL_STATUS_NO_MATCHED_MSG) {
                next[q] = info.next_begin_offset;
                TRY(rmq_pull_consumer_update_offset(c, &queues[q], next[q]));
            }
            TRY(rmq_pull_result_destroy(r)); /* frees its messages too */
        }
    }
    TRY(rmq_pull_consumer_shutdown(c));
    TRY(rmq_pull_consumer_destroy(c));
    printf("total %ld\n", received);
    return received >= expected ? 0 : 1;
}
