"""Drift test: rmq/_native.py against include/rmq.h (constants, struct layouts, every function's
parameters). Set RMQ_HEADER to check another header; RMQ_LIB selects the library."""
import ctypes
import os
import re
import unittest
from ctypes import POINTER, c_char, c_char_p, c_int32, c_int64, c_size_t, c_uint8, c_uint32, c_void_p

from rmq import _native as N

HEADER = os.environ.get("RMQ_HEADER") or os.path.join(os.path.dirname(__file__), "..", "..", "..", "include", "rmq.h")


def header_text():
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # drop comments


OPAQUE = {"rmq_message", "rmq_message_ext", "rmq_producer", "rmq_push_consumer", "rmq_pull_consumer", "rmq_pull_result", "rmq_transaction_producer"}
ENUMS = {"rmq_status", "rmq_send_status", "rmq_pull_status", "rmq_message_model", "rmq_consume_from", "rmq_consume_result", "rmq_local_tx_state"}
SCALARS = {"uint32_t": c_uint32, "int32_t": c_int32, "int64_t": c_int64, "size_t": c_size_t, "uint8_t": c_uint8}


def ctype_of(decl):
    """The ctypes type the binding must declare for a C parameter type."""
    t = re.sub(r"\bconst\b|\bstruct\b", "", decl)
    t = " ".join(t.split())
    stars = t.count("*")
    base = t.replace("*", "").strip()
    if base in N.CALLBACKS and stars == 0:
        return N.CALLBACKS[base]
    if base in ENUMS and stars == 0:
        return c_uint32
    if base in SCALARS and stars == 0:
        return SCALARS[base]
    if base == "char" and stars == 1:
        return c_char_p if "const" in decl else c_void_p
    if base == "char" and stars == 2:
        return POINTER(c_char_p)
    if base == "uint8_t" and stars == 1:
        return c_char_p
    if base == "uint8_t" and stars == 2:
        return POINTER(POINTER(c_uint8))
    if base in OPAQUE or base == "void":
        return {1: c_void_p, 2: POINTER(c_void_p)}[stars]
    if base in N.STRUCTS and stars == 1:
        return POINTER(N.STRUCTS[base])
    if base in SCALARS and stars == 1:
        return POINTER(SCALARS[base])
    raise AssertionError("no ctypes mapping for C type %r" % decl)


class DriftTest(unittest.TestCase):
    def setUp(self):
        self.h = header_text()

    def test_enum_constants_match(self):
        in_header = {k: int(v) for k, v in re.findall(r"^\s*(RMQ_[A-Z0-9_]+) = (-?\d+),?\s*$", self.h, re.M)}
        ours = {}
        for table in (N.STATUS, N.SEND_STATUS, N.PULL_STATUS, N.MESSAGE_MODEL, N.CONSUME_FROM, N.CONSUME_RESULT, N.LOCAL_TX_STATE):
            ours.update(table)
        self.assertGreater(len(in_header), 30)
        self.assertEqual(in_header, ours)

    def test_defines_match(self):
        defines = re.findall(r"^#define (RMQ_[A-Z0-9_]+) (.+)$", self.h, re.M)
        self.assertTrue(defines)
        for name, expr in defines:
            self.assertEqual(eval(expr, {}), getattr(N, name), name)

    def test_struct_layouts_match(self):
        structs = re.findall(r"typedef struct (rmq_\w+) \{(.*?)\} \1;", self.h, re.S)
        self.assertEqual({s for s, _ in structs}, set(N.STRUCTS))
        for name, body in structs:
            fields = []
            for line in body.strip().splitlines():
                line = line.strip().rstrip(";")
                if not line or line.startswith("//"):
                    continue
                m = re.match(r"(.+?)\s+(\w+)(?:\[(\w+)\])?$", line)
                self.assertIsNotNone(m, line)
                ctype, fname, dim = m.groups()
                base = ctype.replace("struct", "").strip()
                if dim:
                    t = c_char * getattr(N, dim)
                elif base in N.STRUCTS:
                    t = N.STRUCTS[base]
                else:
                    t = ctype_of(ctype)
                fields.append((fname, t))
            mirror = type(name, (ctypes.Structure,), {"_fields_": fields})
            ours = N.STRUCTS[name]
            self.assertEqual([f[0] for f in ours._fields_], [f[0] for f in fields], name)
            self.assertEqual(ctypes.sizeof(ours), ctypes.sizeof(mirror), name)
            for f, _ in fields:
                self.assertEqual(getattr(ours, f).offset, getattr(mirror, f).offset, "%s.%s" % (name, f))

    def test_every_function_is_declared_with_its_parameters(self):
        protos = re.findall(r"^([\w ]+?\*?)\s*(rmq_\w+)\(([^)]*)\);", self.h, re.M | re.S)
        self.assertGreater(len(protos), 60)
        self.assertEqual({p[1] for p in protos}, set(N.FUNCTIONS))
        for ret, name, params in protos:
            restype, argtypes = N.FUNCTIONS[name]
            params = " ".join(params.split())
            decls = [] if params in ("", "void") else [p.strip() for p in params.split(",")]
            self.assertEqual(len(decls), len(argtypes), name)
            for decl, declared in zip(decls, argtypes):
                ptype = re.sub(r"\s*\b\w+$", "", decl) if not decl.endswith("*") else decl
                self.assertIs(declared, ctype_of(ptype), "%s: parameter %r" % (name, decl))
            ret = ret.strip()
            self.assertIs(restype, c_uint32 if ret == "rmq_status" else c_char_p, name)
            self.assertTrue(hasattr(N.lib, name), name)


if __name__ == "__main__":
    unittest.main()
