/* rmq librocketmq: a queue of a topic (FetchSubscriptionMessageQueues fills them, Pull reads one). */
#ifndef RMQ_COMPAT_C_MESSAGE_QUEUE_H
#define RMQ_COMPAT_C_MESSAGE_QUEUE_H

#include "CCommon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _CMessageQueue_ {
  char topic[MAX_TOPIC_LENGTH];               /* NUL-terminated */
  char brokerName[MAX_BROKER_NAME_ID_LENGTH]; /* NUL-terminated */
  int queueId;
} CMessageQueue;

#ifdef __cplusplus
}
#endif
#endif /* RMQ_COMPAT_C_MESSAGE_QUEUE_H */
