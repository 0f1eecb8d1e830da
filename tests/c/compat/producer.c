/* A producer written against Apache rocketmq-client-cpp's C API (CProducer.h), unchanged from
 * what it would be with Apache's library.
 *
 * usage: producer NAMESRV TOPIC COUNT MODE
 *   MODE: sync | async | async2 | oneway | orderly | sharding | batch | delay
 * Message i: body "<TOPIC>-<i>", tags "Tag<i%3>", keys "key-<i>", property idx=<i>.
 * orderly/sharding: body "order-<i%4>:<i/4>", queue chosen by order.
 * delay: delay level 2 (5 s). Prints "sent N" and exits 0 when all sends succeeded. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "CBatchMessage.h"
#include "CErrorMessage.h"
#include "CProducer.h"

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int async_ok = 0, async_failed = 0;

static void on_success(CSendResult result) {
  pthread_mutex_lock(&lock);
  if (result.sendStatus == E_SEND_OK && result.msgId[0] != 0) {
    async_ok++;
  } else {
    async_failed++;
  }
  pthread_mutex_unlock(&lock);
}

static void on_exception(CMQException e) {
  pthread_mutex_lock(&lock);
  async_failed++;
  fprintf(stderr, "async send failed: %d %s\n", e.error, e.msg);
  pthread_mutex_unlock(&lock);
}

static void on_success2(CSendResult result, CMessage* msg, void* user) {
  (void)msg;
  pthread_mutex_lock(&lock);
  if (result.sendStatus == E_SEND_OK && user == (void*)&lock) {
    async_ok++;
  } else {
    async_failed++;
  }
  pthread_mutex_unlock(&lock);
}

static void on_exception2(CMQException e, CMessage* msg, void* user) {
  (void)msg;
  (void)user;
  on_exception(e);
}

static int select_by_order(int size, CMessage* msg, void* arg) {
  (void)msg;
  return *(int*)arg % size;
}

static CMessage* make(const char* topic, int i, const char* mode) {
  char body[256], tags[16], keys[32], idx[16];
  CMessage* m = CreateMessage(topic);
  if (strcmp(mode, "orderly") == 0 || strcmp(mode, "sharding") == 0) {
    snprintf(body, sizeof body, "order-%d:%d", i % 4, i / 4);
  } else {
    snprintf(body, sizeof body, "%s-%d", topic, i);
  }
  snprintf(tags, sizeof tags, "Tag%d", i % 3);
  snprintf(keys, sizeof keys, "key-%d", i);
  snprintf(idx, sizeof idx, "%d", i);
  SetMessageTags(m, tags);
  SetMessageKeys(m, keys);
  SetMessageProperty(m, "idx", idx);
  SetByteMessageBody(m, body, (int)strlen(body));
  if (strcmp(mode, "delay") == 0) {
    SetDelayTimeLevel(m, 2);
  }
  return m;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: producer NAMESRV TOPIC COUNT MODE\n");
    return 2;
  }
  const char* topic = argv[2];
  int count = atoi(argv[3]);
  const char* mode = argv[4];
  CProducer* p = CreateProducer("PG_compat_c");
  SetProducerNameServerAddress(p, argv[1]);
  SetProducerSendMsgTimeout(p, 5000);
  if (StartProducer(p) != OK) {
    fprintf(stderr, "start failed: %s\n", GetLatestErrorMessage());
    return 1;
  }
  int sent = 0, failed = 0;
  if (strcmp(mode, "batch") == 0) {
    for (int i = 0; i < count; i += 10) {
      CBatchMessage* b = CreateBatchMessage();
      for (int j = i; j < i + 10 && j < count; j++) {
        CMessage* m = make(topic, j, mode);
        AddMessage(b, m);
        DestroyMessage(m);
      }
      CSendResult r;
      if (SendBatchMessage(p, b, &r) == OK && r.sendStatus == E_SEND_OK) {
        sent += (i + 10 <= count ? 10 : count - i);
      } else {
        failed++;
        fprintf(stderr, "batch failed: %s\n", GetLatestErrorMessage());
      }
      DestroyBatchMessage(b);
    }
  } else {
    for (int i = 0; i < count; i++) {
      CMessage* m = make(topic, i, mode);
      CSendResult r;
      int st;
      memset(&r, 0, sizeof r);
      if (strcmp(mode, "async") == 0) {
        st = SendMessageAsync(p, m, on_success, on_exception);
      } else if (strcmp(mode, "async2") == 0) {
        st = SendAsync(p, m, on_success2, on_exception2, &lock);
      } else if (strcmp(mode, "oneway") == 0) {
        st = SendMessageOneway(p, m);
      } else if (strcmp(mode, "orderly") == 0) {
        int order = i % 4;
        st = SendMessageOrderly(p, m, select_by_order, &order, 3, &r);
      } else if (strcmp(mode, "sharding") == 0) {
        char key[16];
        snprintf(key, sizeof key, "order-%d", i % 4);
        st = SendMessageOrderlyByShardingKey(p, m, key, &r);
      } else {
        st = SendMessageSync(p, m, &r);
        if (st == OK && (r.sendStatus != E_SEND_OK || r.msgId[0] == 0)) {
          st = -1;
        }
      }
      if (st == OK) {
        sent++;
      } else {
        failed++;
        fprintf(stderr, "send %d failed (%d): %s\n", i, st, GetLatestErrorMessage());
      }
      DestroyMessage(m); /* the send copied it: destroying at once is fine */
    }
  }
  if (strncmp(mode, "async", 5) == 0) {
    time_t end = time(NULL) + 60;
    for (;;) {
      pthread_mutex_lock(&lock);
      int done = async_ok + async_failed;
      pthread_mutex_unlock(&lock);
      if (done >= sent || time(NULL) > end) {
        break;
      }
      sleep_ms(10);
    }
    sent = async_ok;
    failed += async_failed;
  }
  ShutdownProducer(p);
  DestroyProducer(p);
  printf("sent %d\n", sent);
  return failed == 0 && sent == count ? 0 : 1;
}
