/* rmq librocketmq: batches for SendBatchMessage (messages of one topic, no delay levels). */
#ifndef RMQ_COMPAT_C_BATCH_MESSAGE_H
#define RMQ_COMPAT_C_BATCH_MESSAGE_H

#include "CCommon.h"
#include "CMessage.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CBatchMessage CBatchMessage;

/* An empty batch; the caller owns it (DestroyBatchMessage). */
ROCKETMQCLIENT_API CBatchMessage* CreateBatchMessage(void);
/* Adds a copy of `msg`: later changes to `msg` do not reach the batch. */
ROCKETMQCLIENT_API int AddMessage(CBatchMessage* batchMsg, CMessage* msg);
ROCKETMQCLIENT_API int DestroyBatchMessage(CBatchMessage* batchMsg);

#ifdef __cplusplus
}
#endif
#endif /* RMQ_COMPAT_C_BATCH_MESSAGE_H */
