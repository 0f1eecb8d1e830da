/* A pull consumer written against Apache's C API (CPullConsumer.h): every queue of TOPIC from
 * offset 0 until E_NO_NEW_MSG, repeated until COUNT messages arrived or TIMEOUT_S passed.
 *
 * usage: pull_consumer NAMESRV TOPIC GROUP COUNT TIMEOUT_S
 * Prints "received <queue> <offset> <body> <tags> <keys> <idx>" per message. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "CErrorMessage.h"
#include "CPullConsumer.h"

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: pull_consumer NAMESRV TOPIC GROUP COUNT TIMEOUT_S\n");
    return 2;
  }
  int count = atoi(argv[4]);
  time_t end = time(NULL) + atoi(argv[5]);
  CPullConsumer* c = CreatePullConsumer(argv[3]);
  SetPullConsumerNameServerAddress(c, argv[1]);
  if (StartPullConsumer(c) != OK) {
    fprintf(stderr, "start failed: %s\n", GetLatestErrorMessage());
    return 1;
  }
  CMessageQueue* mqs = NULL;
  int n = 0;
  while (FetchSubscriptionMessageQueues(c, argv[2], &mqs, &n) != OK) {
    if (time(NULL) > end) {
      fprintf(stderr, "no queues: %s\n", GetLatestErrorMessage());
      return 1;
    }
    sleep_ms(200);
  }
  long long* offsets = calloc((size_t)n, sizeof *offsets);
  int got = 0;
  while (got < count && time(NULL) < end) {
    for (int q = 0; q < n; q++) {
      for (;;) {
        CPullResult r = Pull(c, &mqs[q], "*", offsets[q], 32);
        if (r.pullStatus == E_BROKER_TIMEOUT) {
          fprintf(stderr, "pull failed: %s\n", GetLatestErrorMessage());
          break;
        }
        int progressed = r.nextBeginOffset != offsets[q];
        offsets[q] = r.nextBeginOffset;
        if (r.pullStatus == E_FOUND) {
          for (int i = 0; i < r.size; i++) {
            CMessageExt* m = r.msgFoundList[i];
            printf("received %d %lld %s %s %s %s\n", GetMessageQueueId(m), GetMessageQueueOffset(m),
                   GetMessageBody(m), GetMessageTags(m), GetMessageKeys(m), GetMessageProperty(m, "idx"));
            got++;
          }
          ReleasePullResult(r);
        }
        if (r.pullStatus == E_NO_NEW_MSG || !progressed) break;
      }
    }
    if (got < count) sleep_ms(100);
  }
  fflush(stdout);
  free(offsets);
  ReleaseSubscriptionMessageQueue(mqs);
  ShutdownPullConsumer(c);
  DestroyPullConsumer(c);
  fprintf(stderr, "pulled %d\n", got);
  return got >= count ? 0 : 1;
}
