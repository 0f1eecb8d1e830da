/*
 * rmq librocketmq: drop-in C API of Apache rocketmq-client-cpp 1.2.x / 2.1.0.
 * Common definitions: status codes, log levels, message and trace models.
 *
 * Every function of this API that can fail returns one of the CStatus values below; after a
 * failure GetLatestErrorMessage() (CErrorMessage.h) gives the reason on the calling thread.
 * A NULL handle, or one already destroyed, is answered with NULL_POINTER: handles are checked
 * against the library's live objects, never dereferenced blindly.
 */
#ifndef RMQ_COMPAT_C_COMMON_H
#define RMQ_COMPAT_C_COMMON_H

#ifdef __cplusplus
extern "C" {
#endif

/* Capacities (NUL included) of the fixed-size string fields of the structs. */
#define MAX_MESSAGE_ID_LENGTH 256
#define MAX_TOPIC_LENGTH 512
#define MAX_BROKER_NAME_ID_LENGTH 256
#define MAX_SDK_VERSION_LENGTH 256
/* What ShowProducerVersion returns for a NULL producer. */
#define DEFAULT_SDK_VERSION "DefaultVersion"

typedef enum _CStatus_ {
  OK = 0,                        /* success */
  NULL_POINTER = 1,              /* NULL/destroyed handle, NULL or invalid argument */
  MALLOC_FAILED = 2,             /* kept for compatibility; never returned */
  PRODUCER_ERROR_CODE_START = 10,
  PRODUCER_START_FAILED = 10,    /* StartProducer failed, or a producer setting was refused */
  PRODUCER_SEND_SYNC_FAILED = 11,
  PRODUCER_SEND_ONEWAY_FAILED = 12,
  PRODUCER_SEND_ORDERLY_FAILED = 13,
  PRODUCER_SEND_ASYNC_FAILED = 14,
  PRODUCER_SEND_ORDERLYASYNC_FAILED = 15,
  PRODUCER_SEND_TRANSACTION_FAILED = 16,
  PUSHCONSUMER_ERROR_CODE_START = 20,
  PUSHCONSUMER_START_FAILED = 20, /* StartPushConsumer failed, or a push-consumer call was refused */
  PULLCONSUMER_ERROR_CODE_START = 30,
  PULLCONSUMER_START_FAILED = 30,
  PULLCONSUMER_FETCH_MQ_FAILED = 31,
  PULLCONSUMER_FETCH_MESSAGE_FAILED = 32,
  Not_Support = 500,
  NOT_SUPPORT_NOW = -1
} CStatus;

/* Log levels of the Set*LogLevel functions (FATAL logs errors only). */
typedef enum _CLogLevel_ {
  E_LOG_LEVEL_FATAL = 1,
  E_LOG_LEVEL_ERROR = 2,
  E_LOG_LEVEL_WARN = 3,
  E_LOG_LEVEL_INFO = 4,
  E_LOG_LEVEL_DEBUG = 5,
  E_LOG_LEVEL_TRACE = 6,
  E_LOG_LEVEL_LEVEL_NUM = 7
} CLogLevel;

#if defined(__GNUC__) || defined(__clang__)
#define ROCKETMQCLIENT_API __attribute__((visibility("default")))
#else
#define ROCKETMQCLIENT_API
#endif

/* How a consumer group shares messages: each consumer gets every message (BROADCASTING), or
 * each message goes to one consumer of the group (CLUSTERING, the default). */
typedef enum _CMessageModel_ { BROADCASTING, CLUSTERING } CMessageModel;
/* Message trace switch (2.x): accepted; this library sends no trace messages. */
typedef enum _CTraceModel_ { OPEN, CLOSE } CTraceModel;

#ifdef __cplusplus
}
#endif
#endif /* RMQ_COMPAT_C_COMMON_H */
