"""A Kafka cluster for tests: librdkafka's own mock cluster, in this process.

Debian ships no Kafka broker, but librdkafka (the library kcat is built on)
carries a mock cluster that speaks the Kafka protocol on real sockets of
127.0.0.1: produce, metadata, fetch, offsets. kcat can produce to it and
consume from it like from any broker.

    python3 kafka_mock.py TOPIC [PARTITIONS]

prints the bootstrap address ("127.0.0.1:PORT") on a line of stdout once the
cluster listens and TOPIC exists, then serves until its stdin closes (or it is
killed), so the test that starts it controls its lifetime. Loaded with ctypes
from librdkafka.so.1 (kcat's dependency): no Python package needed.
"""

import ctypes
import ctypes.util
import sys

RD_KAFKA_PRODUCER = 0


def main() -> int:
    topic = sys.argv[1].encode()
    partitions = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    name = ctypes.util.find_library("rdkafka") or "librdkafka.so.1"
    lib = ctypes.CDLL(name)
    lib.rd_kafka_conf_new.restype = ctypes.c_void_p
    lib.rd_kafka_conf_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                      ctypes.c_char_p, ctypes.c_size_t]
    lib.rd_kafka_new.restype = ctypes.c_void_p
    lib.rd_kafka_new.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.rd_kafka_handle_mock_cluster.restype = ctypes.c_void_p
    lib.rd_kafka_handle_mock_cluster.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_mock_cluster_bootstraps.restype = ctypes.c_char_p
    lib.rd_kafka_mock_cluster_bootstraps.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_mock_topic_create.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
    lib.rd_kafka_destroy.argtypes = [ctypes.c_void_p]

    err = ctypes.create_string_buffer(512)
    conf = lib.rd_kafka_conf_new()
    for key, value in ((b"test.mock.num.brokers", b"1"), (b"log_level", b"3")):
        if lib.rd_kafka_conf_set(conf, key, value, err, len(err)) != 0:
            print(f"kafka_mock: {key.decode()}: {err.value.decode()}", file=sys.stderr)
            return 1
    rk = lib.rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, len(err))
    if not rk:
        print(f"kafka_mock: rd_kafka_new: {err.value.decode()}", file=sys.stderr)
        return 1
    try:
        cluster = lib.rd_kafka_handle_mock_cluster(rk)
        if not cluster:
            print("kafka_mock: this librdkafka has no mock cluster", file=sys.stderr)
            return 1
        code = lib.rd_kafka_mock_topic_create(cluster, topic, partitions, 1)
        if code != 0:
            print(f"kafka_mock: creating topic {topic.decode()}: error {code}", file=sys.stderr)
            return 1
        print(lib.rd_kafka_mock_cluster_bootstraps(cluster).decode(), flush=True)
        sys.stdin.buffer.read()  # serve until the test closes our stdin
    finally:
        lib.rd_kafka_destroy(rk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
