/*
 * rmq librocketmq: producers.
 *
 * Lifecycle: Create*Producer, Set* (any time; applied at start), StartProducer, sends,
 * ShutdownProducer, DestroyProducer. Start, shutdown and destroy may come in any order and any
 * number of times: starting a running producer and shutting down a stopped one are OK, a shut
 * down producer can be started again, DestroyProducer shuts a running one down first, and a
 * destroyed handle gets NULL_POINTER from every function.
 *
 * Threads: any number of threads may send through one producer. Async callbacks run on the
 * library's threads (never the caller's); queue selectors and transaction executors run on
 * the calling thread before the send returns; the transaction checker runs on the producer's
 * checker thread.
 *
 * Settings are process-wide for the log functions (the last call wins); session credentials
 * are stored but requests are not signed yet; the message trace switch is accepted and ignored.
 */
#ifndef RMQ_COMPAT_C_PRODUCER_H
#define RMQ_COMPAT_C_PRODUCER_H

#include "CBatchMessage.h"
#include "CMQException.h"
#include "CMessage.h"
#include "CMessageExt.h"
#include "CSendResult.h"
#include "CTransactionStatus.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CProducer CProducer;

/* Picks the queue of a message: an index in 0..size-1 (anything else fails the send). `msg` is
 * the message being sent (readable with the GetOriginMessage... and GetMessage... getters). */
typedef int (*QueueSelectorCallback)(int size, CMessage* msg, void* arg);
/* Outcome callbacks of SendMessageAsync / SendMessageOrderlyAsync (one of them runs once). */
typedef void (*CSendSuccessCallback)(CSendResult result);
typedef void (*CSendExceptionCallback)(CMQException e);
/* Outcome callbacks of SendAsync (2.x): also the message handle and the user data. */
typedef void (*COnSendSuccessCallback)(CSendResult result, CMessage* msg, void* userData);
typedef void (*COnSendExceptionCallback)(CMQException e, CMessage* msg, void* userData);
/* Transactions (2.x): the checker answers the broker's checks; the executor runs the local
 * transaction of one SendMessageTransaction. */
typedef CTransactionStatus (*CLocalTransactionCheckerCallback)(CProducer* producer, CMessageExt* msg, void* data);
typedef CTransactionStatus (*CLocalTransactionExecutorCallback)(CProducer* producer, CMessage* msg, void* data);

/* NULL when groupId is NULL. The caller owns the producer (DestroyProducer). */
ROCKETMQCLIENT_API CProducer* CreateProducer(const char* groupId);
ROCKETMQCLIENT_API CProducer* CreateOrderlyProducer(const char* groupId);
ROCKETMQCLIENT_API CProducer* CreateTransactionProducer(const char* groupId,
                                                        CLocalTransactionCheckerCallback callback,
                                                        void* userData);
ROCKETMQCLIENT_API int DestroyProducer(CProducer* producer);
/* PRODUCER_START_FAILED with the reason in GetLatestErrorMessage(). */
ROCKETMQCLIENT_API int StartProducer(CProducer* producer);
/* Finishes queued async sends (their callbacks run) and leaves the group. */
ROCKETMQCLIENT_API int ShutdownProducer(CProducer* producer);
ROCKETMQCLIENT_API const char* ShowProducerVersion(CProducer* producer);

/* "host:9876;host2:9876"; default: the NAMESRV_ADDR environment variable. */
ROCKETMQCLIENT_API int SetProducerNameServerAddress(CProducer* producer, const char* namesrv);
/* An http:// URL answering "host:9876;..." (fetched at start, takes precedence). */
ROCKETMQCLIENT_API int SetProducerNameServerDomain(CProducer* producer, const char* domain);
ROCKETMQCLIENT_API int SetProducerGroupName(CProducer* producer, const char* groupName);
ROCKETMQCLIENT_API int SetProducerInstanceName(CProducer* producer, const char* instanceName);
ROCKETMQCLIENT_API int SetProducerSessionCredentials(CProducer* producer,
                                                     const char* accessKey,
                                                     const char* secretKey,
                                                     const char* onsChannel);
/* Logs go to <logPath>/<pid>_rocketmq-cpp.log (directory created if missing), and nowhere
 * before a path is set (or ROCKETMQ_CLIENT_LOG_DIR is in the environment). */
ROCKETMQCLIENT_API int SetProducerLogPath(CProducer* producer, const char* logPath);
/* Keep at most fileNum files of fileSize MB each (defaults 3 and 100). */
ROCKETMQCLIENT_API int SetProducerLogFileNumAndSize(CProducer* producer, int fileNum, long fileSize);
ROCKETMQCLIENT_API int SetProducerLogLevel(CProducer* producer, CLogLevel level);
/* Milliseconds per send (default 3000). */
ROCKETMQCLIENT_API int SetProducerSendMsgTimeout(CProducer* producer, int timeout);
/* zlib level 0..9 (-1: 6; default 5) of bodies over the compression threshold. */
ROCKETMQCLIENT_API int SetProducerCompressLevel(CProducer* producer, int level);
/* Bodies of at least `howmuch` bytes are compressed (default 4096). */
ROCKETMQCLIENT_API int SetProducerCompressMsgBodyOverHowmuch(CProducer* producer, int howmuch);
/* Largest body in bytes (default 4 MiB). */
ROCKETMQCLIENT_API int SetProducerMaxMessageSize(CProducer* producer, int size);
ROCKETMQCLIENT_API int SetProducerMessageTrace(CProducer* producer, CTraceModel openTrace);

/* Waits for the broker; retries on another broker after a failure. */
ROCKETMQCLIENT_API int SendMessageSync(CProducer* producer, CMessage* msg, CSendResult* result);
ROCKETMQCLIENT_API int SendBatchMessage(CProducer* producer, CBatchMessage* msg, CSendResult* result);
/* Returns once queued (PRODUCER_SEND_ASYNC_FAILED if it cannot be, and then no callback runs). */
ROCKETMQCLIENT_API int SendMessageAsync(CProducer* producer,
                                        CMessage* msg,
                                        CSendSuccessCallback cSendSuccessCallback,
                                        CSendExceptionCallback cSendExceptionCallback);
ROCKETMQCLIENT_API int SendAsync(CProducer* producer,
                                 CMessage* msg,
                                 COnSendSuccessCallback cSendSuccessCallback,
                                 COnSendExceptionCallback cSendExceptionCallback,
                                 void* userData);
ROCKETMQCLIENT_API int SendMessageOneway(CProducer* producer, CMessage* msg);
ROCKETMQCLIENT_API int SendMessageOnewayOrderly(CProducer* producer,
                                                CMessage* msg,
                                                QueueSelectorCallback selector,
                                                void* arg);
/* Up to 1 + autoRetryTimes attempts, the selector asked each time. */
ROCKETMQCLIENT_API int SendMessageOrderly(CProducer* producer,
                                          CMessage* msg,
                                          QueueSelectorCallback callback,
                                          void* arg,
                                          int autoRetryTimes,
                                          CSendResult* result);
ROCKETMQCLIENT_API int SendMessageOrderlyAsync(CProducer* producer,
                                               CMessage* msg,
                                               QueueSelectorCallback callback,
                                               void* arg,
                                               CSendSuccessCallback cSendSuccessCallback,
                                               CSendExceptionCallback cSendExceptionCallback);
/* The queue is hash(shardingKey) % queues: one key's messages stay in order. */
ROCKETMQCLIENT_API int SendMessageOrderlyByShardingKey(CProducer* producer,
                                                       CMessage* msg,
                                                       const char* shardingKey,
                                                       CSendResult* result);
/* Half message, then `callback` (the local transaction) on this thread, then commit, rollback
 * or (unknown) the broker's later check. Transaction producers only. */
ROCKETMQCLIENT_API int SendMessageTransaction(CProducer* producer,
                                              CMessage* msg,
                                              CLocalTransactionExecutorCallback callback,
                                              void* userData,
                                              CSendResult* result);

#ifdef __cplusplus
}
#endif
#endif /* RMQ_COMPAT_C_PRODUCER_H */
