/* A push consumer written against Apache's C API (CPushConsumer.h).
 *
 * usage: push_consumer NAMESRV TOPIC GROUP COUNT TIMEOUT_S [orderly|later|broadcast]
 * Prints "received <queue> <offset> <body> <tags> <keys> <idx>" per message and exits 0 once
 * COUNT distinct bodies arrived (non-zero on timeout). "later" answers E_RECONSUME_LATER the
 * first time each message is seen, so every message must come back through send-back. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "CErrorMessage.h"
#include "CPushConsumer.h"

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

#define MAX_SEEN 100000
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char* seen[MAX_SEEN];
static int distinct = 0, redelivered = 0;
static const char* mode = "";

static int find(const char* body) {
  for (int i = 0; i < distinct; i++) {
    if (strcmp(seen[i], body) == 0) return i;
  }
  return -1;
}

static int on_message(CPushConsumer* consumer, CMessageExt* msg) {
  (void)consumer;
  const char* body = GetMessageBody(msg);
  int later = 0;
  pthread_mutex_lock(&lock);
  int at = find(body);
  if (strcmp(mode, "later") == 0 && GetMessageReconsumeTimes(msg) == 0) {
    later = 1; /* first delivery: ask for a redelivery */
  } else {
    if (at < 0 && distinct < MAX_SEEN) {
      size_t n = strlen(body) + 1;
      seen[distinct] = malloc(n);
      memcpy(seen[distinct], body, n);
      distinct++;
    }
    if (GetMessageReconsumeTimes(msg) > 0) redelivered++;
    printf("received %d %lld %s %s %s %s\n", GetMessageQueueId(msg), GetMessageQueueOffset(msg), body,
           GetMessageTags(msg), GetMessageKeys(msg), GetMessageProperty(msg, "idx"));
    fflush(stdout);
  }
  pthread_mutex_unlock(&lock);
  return later ? E_RECONSUME_LATER : E_CONSUME_SUCCESS;
}

int main(int argc, char** argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: push_consumer NAMESRV TOPIC GROUP COUNT TIMEOUT_S [orderly|later|broadcast]\n");
    return 2;
  }
  int count = atoi(argv[4]);
  int timeout = atoi(argv[5]);
  mode = argc > 6 ? argv[6] : "";
  CPushConsumer* c = CreatePushConsumer(argv[3]);
  SetPushConsumerNameServerAddress(c, argv[1]);
  SetPushConsumerThreadCount(c, 2);
  SetPushConsumerMessageBatchMaxSize(c, 4);
  if (strcmp(mode, "broadcast") == 0) SetPushConsumerMessageModel(c, BROADCASTING);
  Subscribe(c, argv[2], "*");
  if (strcmp(mode, "orderly") == 0) {
    RegisterMessageCallbackOrderly(c, on_message);
  } else {
    RegisterMessageCallback(c, on_message);
  }
  if (StartPushConsumer(c) != OK) {
    fprintf(stderr, "start failed: %s\n", GetLatestErrorMessage());
    return 1;
  }
  time_t end = time(NULL) + timeout;
  int got = 0;
  while (time(NULL) < end) {
    pthread_mutex_lock(&lock);
    got = distinct;
    pthread_mutex_unlock(&lock);
    if (got >= count) break;
    sleep_ms(20);
  }
  ShutdownPushConsumer(c);
  DestroyPushConsumer(c);
  fprintf(stderr, "distinct %d redelivered %d\n", got, redelivered);
  for (int i = 0; i < distinct; i++) free(seen[i]);
  return got >= count ? 0 : 1;
}
