/*
 * rmq librocketmq: push consumers. The library pulls and calls the registered MessageCallBack
 * on its consume threads (SetPushConsumerThreadCount of them), once per message; the message is
 * valid during the call. Returning E_CONSUME_SUCCESS consumes it; anything else fails the rest
 * of its batch: concurrently consumed messages are sent back to the broker and redelivered
 * later (retry topic, growing delays), orderly ones are retried in place after a pause. An
 * orderly callback runs for one queue at a time, in queue order, while the broker's lock on
 * that queue is held by this consumer.
 *
 * Lifecycle as for producers (CProducer.h): any order, any number of times; settings and
 * subscriptions apply at start; Register/Unregister take effect at once. Shutdown and Destroy
 * wait for running callbacks, so they are refused (PUSHCONSUMER_START_FAILED) when called from
 * inside the consumer's own callback.
 */
#ifndef RMQ_COMPAT_C_PUSH_CONSUMER_H
#define RMQ_COMPAT_C_PUSH_CONSUMER_H

#include "CCommon.h"
#include "CMessageExt.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CPushConsumer CPushConsumer;

typedef enum E_CConsumeStatus { E_CONSUME_SUCCESS = 0, E_RECONSUME_LATER = 1 } CConsumeStatus;

typedef int (*MessageCallBack)(CPushConsumer*, CMessageExt*);

/* NULL when groupId is NULL. A group without committed offsets starts at the end of each queue
 * (CONSUME_FROM_LAST_OFFSET, as Apache's), except where the broker still holds a queue from
 * offset 0: there it reads from the start (the broker's rule for new groups). */
ROCKETMQCLIENT_API CPushConsumer* CreatePushConsumer(const char* groupId);
ROCKETMQCLIENT_API int DestroyPushConsumer(CPushConsumer* consumer);
/* Needs a subscription and a callback; PUSHCONSUMER_START_FAILED otherwise. */
ROCKETMQCLIENT_API int StartPushConsumer(CPushConsumer* consumer);
/* Waits for running callbacks, commits offsets, leaves the group. */
ROCKETMQCLIENT_API int ShutdownPushConsumer(CPushConsumer* consumer);
ROCKETMQCLIENT_API const char* ShowPushConsumerVersion(CPushConsumer* consumer);
ROCKETMQCLIENT_API int SetPushConsumerGroupID(CPushConsumer* consumer, const char* groupId);
/* Valid until the group is set again or the consumer destroyed. */
ROCKETMQCLIENT_API const char* GetPushConsumerGroupID(CPushConsumer* consumer);
ROCKETMQCLIENT_API int SetPushConsumerNameServerAddress(CPushConsumer* consumer, const char* namesrv);
ROCKETMQCLIENT_API int SetPushConsumerNameServerDomain(CPushConsumer* consumer, const char* domain);
/* Tag expression: "*" or "TagA || TagB". Subscribing a topic again replaces its expression. */
ROCKETMQCLIENT_API int Subscribe(CPushConsumer* consumer, const char* topic, const char* expression);
ROCKETMQCLIENT_API int RegisterMessageCallbackOrderly(CPushConsumer* consumer, MessageCallBack pCallback);
ROCKETMQCLIENT_API int RegisterMessageCallback(CPushConsumer* consumer, MessageCallBack pCallback);
ROCKETMQCLIENT_API int UnregisterMessageCallbackOrderly(CPushConsumer* consumer);
ROCKETMQCLIENT_API int UnregisterMessageCallback(CPushConsumer* consumer);
/* 1..1000 (default 4; 0 is NULL_POINTER). */
ROCKETMQCLIENT_API int SetPushConsumerThreadCount(CPushConsumer* consumer, int threadCount);
/* Messages per consume batch, 1..1024 (default 1). */
ROCKETMQCLIENT_API int SetPushConsumerMessageBatchMaxSize(CPushConsumer* consumer, int batchSize);
ROCKETMQCLIENT_API int SetPushConsumerInstanceName(CPushConsumer* consumer, const char* instanceName);
ROCKETMQCLIENT_API int SetPushConsumerSessionCredentials(CPushConsumer* consumer,
                                                         const char* accessKey,
                                                         const char* secretKey,
                                                         const char* channel);
/* As SetProducerLogPath (process-wide). */
ROCKETMQCLIENT_API int SetPushConsumerLogPath(CPushConsumer* consumer, const char* logPath);
ROCKETMQCLIENT_API int SetPushConsumerLogFileNumAndSize(CPushConsumer* consumer, int fileNum, long fileSize);
ROCKETMQCLIENT_API int SetPushConsumerLogLevel(CPushConsumer* consumer, CLogLevel level);
/* Broadcasting offsets are kept in $HOME/.rocketmq_offsets, as Apache's. */
ROCKETMQCLIENT_API int SetPushConsumerMessageModel(CPushConsumer* consumer, CMessageModel messageModel);
/* Pulling a queue pauses while it holds this many unconsumed messages (default 1000)... */
ROCKETMQCLIENT_API int SetPushConsumerMaxCacheMessageSize(CPushConsumer* consumer, int maxCacheSize);
/* ... or while their bodies exceed this many MB (default 100; honoured, unlike 2.1.0's). */
ROCKETMQCLIENT_API int SetPushConsumerMaxCacheMessageSizeInMb(CPushConsumer* consumer, int maxCacheSizeInMb);
ROCKETMQCLIENT_API int SetPushConsumerMessageTrace(CPushConsumer* consumer, CTraceModel openTrace);

#ifdef __cplusplus
}
#endif
#endif /* RMQ_COMPAT_C_PUSH_CONSUMER_H */
