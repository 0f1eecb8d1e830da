/* rmq librocketmq: what a local transaction (or its check) answers (2.x). */
#ifndef RMQ_COMPAT_C_TRANSACTION_STATUS_H
#define RMQ_COMPAT_C_TRANSACTION_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum E_CTransactionStatus {
  E_COMMIT_TRANSACTION = 0,   /* deliver the message */
  E_ROLLBACK_TRANSACTION = 1, /* drop it */
  E_UNKNOWN_TRANSACTION = 2   /* not known yet: the broker asks the checker later */
} CTransactionStatus;

#ifdef __cplusplus
}
#endif
#endif /* RMQ_COMPAT_C_TRANSACTION_STATUS_H */
