#!/usr/bin/env bash
# Regenerates the RDB fixtures that real Redis 7.0 writes, for Tests/CairnFormatsTests/RDB*.
#
#   tools/make-fixtures.sh            writes into Fixtures/redis-rdb/
#
# Starts redis-server on a free loopback port with a fresh temporary --dir, fills every value
# type in its small and big encodings (plus expiries, several DBs, a function library, streams
# with consumer groups and pending entries), SAVEs, copies the files, and shuts the server down.
# The test expectations in RDBFixtureTests.swift describe exactly what is written here: change
# both together. Times that Redis takes from the clock (ctime, PEL delivery times, consumer seen
# times) differ between runs; the tests do not pin them.
#
# Files written:
#   redis7-alltypes.rdb            everything, default config (rdbcompression, rdbchecksum on)
#   redis7-lfu.rdb                 three keys saved under maxmemory-policy allkeys-lfu (FREQ)
#   redis7-lru.rdb                 three keys saved under maxmemory-policy allkeys-lru (IDLE)
#   redis7-plain.rdb               rdbcompression no, rdbchecksum no (stored checksum 0)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/Fixtures/redis-rdb"
mkdir -p "$out"
command -v redis-server >/dev/null || { echo "redis-server not found" >&2; exit 1; }

work="$(mktemp -d /tmp/cairn-fixtures.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"

pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# start_server EXTRA-ARGS...: a fresh server on $port with $work as its dir.
start_server() {
    rm -f "$work/dump.rdb"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no \
        --enable-debug-command yes --daemonize no --logfile "$work/redis.log" "$@" &
    pid=$!
}
# stop_server: the Python side sent SHUTDOWN NOSAVE; wait for the process to go.
stop_server() {
    wait "$pid" 2>/dev/null || true
    pid=""
}

cat > "$work/fill.py" <<'PY'
import shutil, socket, sys, time

port, work, out, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

# A minimal binary-safe RESP client (no third-party packages needed).
for _ in range(100):
    try:
        sock = socket.create_connection(("127.0.0.1", port))
        break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit("redis-server did not start")
f = sock.makefile("rb")

def enc(a):
    if isinstance(a, bytes): return a
    return str(a).encode()

def reply():
    line = f.readline()
    t, rest = line[:1], line[1:-2]
    if t == b"+": return rest
    if t == b"-": raise RuntimeError(rest.decode())
    if t == b":": return int(rest)
    if t == b"$":
        n = int(rest)
        if n < 0: return None
        data = f.read(n + 2)
        return data[:-2]
    if t == b"*":
        n = int(rest)
        return None if n < 0 else [reply() for _ in range(n)]
    raise RuntimeError("bad reply %r" % line)

def r(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = enc(a)
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    sock.sendall(b"".join(parts))
    return reply()

FAR = 4102444800000  # 2100-01-01T00:00:00Z in ms: never expires during a test run

def save_as(name):
    r("SAVE")
    shutil.copyfile(f"{work}/dump.rdb", f"{out}/{name}")

if mode == "plain":
    r("SET", "long", "z" * 100)
    r("HSET", "h", "field", "y" * 50)
    save_as("redis7-plain.rdb")
else:
    # ---- redis7-alltypes.rdb -------------------------------------------------------------------
    r("FLUSHALL")
    r("SELECT", 0)
    # strings: raw, int-encoded (8/16/32 bit), too big for int32, LZF, binary, empty, expiring
    r("SET", "str:small", "hello")
    r("SET", "str:int8", "-5")
    r("SET", "str:int16", "1234")
    r("SET", "str:int32", "123456789")
    r("SET", "str:int64", "12345678901234")
    r("SET", "str:lzf", "a" * 100)
    r("SET", "str:binary", b"\x00\x01\xff\xfe bin \r\n")
    r("SET", "str:empty", "")
    r("SET", "str:expire", "soon")
    r("PEXPIREAT", "str:expire", FAR)
    # lists: one listpack node; many nodes; nodes LZF-compressed in memory; plain (huge) nodes
    r("RPUSH", "list:small", "a", "b", "c", "1", "2", "300000", "-7")
    r("RPUSH", "list:big", *["item-%d" % i for i in range(1000)])
    r("CONFIG", "SET", "list-compress-depth", "1")
    r("RPUSH", "list:compressed", *["compressible-element-%d-%s" % (i, "x" * 40) for i in range(600)])
    r("CONFIG", "SET", "list-compress-depth", "0")
    r("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100")
    r("RPUSH", "list:plain", "small", "P" * 300, "tail")
    r("DEBUG", "QUICKLIST-PACKED-THRESHOLD", str(1 << 30))
    r("RPUSH", "list:expire", "x")
    r("PEXPIREAT", "list:expire", FAR)
    # sets: intset (16/32/64-bit), small strings (7.0 writes a plain set), big hashtable
    r("SADD", "set:ints", "1", "2", "3", "-100", "70000")
    r("SADD", "set:ints64", "1", "5000000000")
    r("SADD", "set:strs", "apple", "banana", "cherry")
    r("SADD", "set:big", *["m%d" % i for i in range(600)])
    r("SADD", "set:bigints", *[str(i) for i in range(600)])
    # hashes: listpack, big (> hash-max-listpack-entries 512: plain), long value (plain)
    r("HSET", "hash:small", "f1", "v1", "f2", "2", "num", "123")
    r("HSET", "hash:big", *sum([["field%d" % i, "value%d" % i] for i in range(600)], []))
    r("HSET", "hash:longval", "k", "L" * 100)
    # sorted sets: listpack (int, fractional, negative, inf scores), big (zset2)
    r("ZADD", "zset:small", "1", "a", "2.5", "b", "-3", "c", "+inf", "d", "0.1", "e")
    r("ZADD", "zset:big", *sum([[str(i * 1.5), "member%d" % i] for i in range(200)], []))
    r("ZADD", "zset:longmember", "1", "M" * 100)
    # streams: mixed field sets, a deleted entry, two groups, pending entries, an idle consumer
    r("XADD", "stream:small", "1-1", "name", "alice", "age", "30")
    r("XADD", "stream:small", "1-2", "name", "bob", "age", "25")
    r("XADD", "stream:small", "2-1", "other", "field")
    r("XADD", "stream:small", "3-0", "name", "carol", "age", "41")
    r("XDEL", "stream:small", "1-2")
    r("XGROUP", "CREATE", "stream:small", "g1", "0")
    r("XGROUP", "CREATE", "stream:small", "g2", "$")
    r("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "stream:small", ">")
    r("XGROUP", "CREATECONSUMER", "stream:small", "g1", "bob")
    r("XADD", "stream:big", "1-0", "f", "0")
    for i in range(1, 300):
        r("XADD", "stream:big", "%d-0" % (i + 1), "f", str(i))
    r("XADD", "stream:empty", "5-5", "a", "b")
    r("XDEL", "stream:empty", "5-5")
    # another database with expiring keys, and one more
    r("SELECT", 1)
    r("SET", "db1:key", "in db 1")
    r("PEXPIREAT", "db1:key", FAR)
    r("SET", "db1:persistent", "p")
    r("SELECT", 5)
    r("SET", "db5:key", "in db 5")
    # a function library
    r("FUNCTION", "LOAD", "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)")
    save_as("redis7-alltypes.rdb")

    # ---- redis7-lfu.rdb / redis7-lru.rdb -------------------------------------------------------
    r("FLUSHALL")
    r("FUNCTION", "FLUSH")
    r("SELECT", 0)
    r("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    r("SET", "a", "1")
    r("RPUSH", "b", "x")
    r("HSET", "c", "f", "v")
    save_as("redis7-lfu.rdb")
    r("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    save_as("redis7-lru.rdb")
    r("CONFIG", "SET", "maxmemory-policy", "noeviction")

# Shut the server down (no reply comes: the connection just closes).
sock.sendall(b"*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n")
try:
    f.readline()
except OSError:
    pass
sock.close()
PY

start_server
python3 "$work/fill.py" "$port" "$work" "$out" all
stop_server
start_server --rdbcompression no --rdbchecksum no
python3 "$work/fill.py" "$port" "$work" "$out" plain
stop_server

for f in redis7-alltypes.rdb redis7-lfu.rdb redis7-lru.rdb redis7-plain.rdb; do
    redis-check-rdb "$out/$f" | grep -q "RDB looks OK" || { echo "redis-check-rdb rejects $f" >&2; exit 1; }
    echo "wrote $out/$f"
done
