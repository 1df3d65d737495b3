// Thin syscall shim: sockets, sendmsg/recvmsg with raw address and control buffers, and a uv_poll readiness
// poller. Every protocol detail (sockaddr layout, cmsg, netlink messages) is encoded in TypeScript; this file
// only moves bytes so the same shim serves netlink, raw IP, AF_PACKET and ICMPv6 sockets.
#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <vector>

namespace {

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  const char* name = strerrorname_np(err);
  std::string code = name ? name : "E" + std::to_string(err);
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + " failed: " + strerror(err) + " (" + code + ")");
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, code));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall) { throw ErrnoError(env, err, syscall); }

int IntArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

// Buffers and Uint8Arrays alike: both are Uint8Array views.
Napi::Uint8Array BytesArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a Buffer or Uint8Array");
  return info[i].As<Napi::Uint8Array>();
}

Napi::Int32Array Int32ArrayArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an Int32Array");
  return info[i].As<Napi::Int32Array>();
}

bool IsAbsent(const Napi::Value& v) { return v.IsUndefined() || v.IsNull(); }

// epoll_wait without blocking into `events` (1,024 of them), for at most `room` events: the ready count.
int EpollWaitNow(Napi::Env env, int epfd, epoll_event* events, size_t room) {
  int max = static_cast<int>(std::min<size_t>(room, 1024));
  if (max == 0) throw Napi::RangeError::New(env, "out has no room for an event");
  int n;
  do n = epoll_wait(epfd, events, max, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) ThrowErrno(env, errno, "epoll_wait");
  return n;
}

Napi::Value Socket(const Napi::CallbackInfo& info) {
  int domain = IntArg(info, 0, "domain");
  int type = IntArg(info, 1, "type");
  int protocol = IntArg(info, 2, "protocol");
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) ThrowErrno(info.Env(), errno, "socket");
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value Bind(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  Napi::Uint8Array addr = BytesArg(info, 1, "address");
  if (bind(fd, reinterpret_cast<sockaddr*>(addr.Data()), addr.ByteLength()) < 0) ThrowErrno(info.Env(), errno, "bind");
  return info.Env().Undefined();
}

Napi::Value Connect(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  Napi::Uint8Array addr = BytesArg(info, 1, "address");
  if (connect(fd, reinterpret_cast<sockaddr*>(addr.Data()), addr.ByteLength()) < 0 && errno != EINPROGRESS)
    ThrowErrno(info.Env(), errno, "connect");
  return info.Env().Undefined();
}

Napi::Value GetSockName(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) ThrowErrno(info.Env(), errno, "getsockname");
  return Napi::Buffer<uint8_t>::Copy(info.Env(), reinterpret_cast<uint8_t*>(&ss), len);
}

Napi::Value SetSockOpt(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  int level = IntArg(info, 1, "level");
  int name = IntArg(info, 2, "name");
  Napi::Uint8Array value = BytesArg(info, 3, "value");
  if (setsockopt(fd, level, name, value.Data(), value.ByteLength()) < 0) ThrowErrno(info.Env(), errno, "setsockopt");
  return info.Env().Undefined();
}

Napi::Value GetSockOpt(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  int level = IntArg(info, 1, "level");
  int name = IntArg(info, 2, "name");
  int capacity = IntArg(info, 3, "capacity");
  if (capacity < 0) throw Napi::RangeError::New(info.Env(), "capacity must be >= 0");
  std::vector<uint8_t> buf(capacity);
  socklen_t len = capacity;
  if (getsockopt(fd, level, name, buf.data(), &len) < 0) ThrowErrno(info.Env(), errno, "getsockopt");
  return Napi::Buffer<uint8_t>::Copy(info.Env(), buf.data(), len);
}

// socketError(fd) -> the pending SO_ERROR (0 if none), read and cleared: how a non-blocking connect reports its
// outcome once the socket is writable. getsockopt() would allocate a Buffer for one int on every check.
Napi::Value SocketError(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) ThrowErrno(info.Env(), errno, "getsockopt");
  return Napi::Number::New(info.Env(), err);
}

// epoll, for callers that watch many short-lived descriptors (TCP_CHECK's connects): one epoll instance, itself
// watched by a Poller, instead of a uv_poll handle and a JS object per descriptor.
Napi::Value EpollCreate(const Napi::CallbackInfo& info) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) ThrowErrno(info.Env(), errno, "epoll_create1");
  return Napi::Number::New(info.Env(), fd);
}

// epollCtl(epfd, op, fd, events): the event's data is the descriptor itself.
Napi::Value EpollCtl(const Napi::CallbackInfo& info) {
  int epfd = IntArg(info, 0, "epfd");
  int op = IntArg(info, 1, "op");
  int fd = IntArg(info, 2, "fd");
  epoll_event ev{};
  ev.events = static_cast<uint32_t>(IntArg(info, 3, "events"));
  ev.data.fd = fd;
  if (epoll_ctl(epfd, op, fd, &ev) < 0) ThrowErrno(info.Env(), errno, "epoll_ctl");
  return info.Env().Undefined();
}

// epollWait(epfd, out: Int32Array) -> ready count, without blocking; out receives [fd, events] pairs.
Napi::Value EpollWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int epfd = IntArg(info, 0, "epfd");
  Napi::Int32Array out = Int32ArrayArg(info, 1, "out");
  epoll_event events[1024];
  int n = EpollWaitNow(env, epfd, events, out.ElementLength() / 2);
  for (int i = 0; i < n; i++) {
    out[2 * i] = events[i].data.fd;
    out[2 * i + 1] = static_cast<int32_t>(events[i].events);
  }
  return Napi::Number::New(env, n);
}

// Batched forms of the calls above, for TCP_CHECK's connects: one crossing into the shim per batch instead of one
// per system call (in the emulated guest the crossings were most of what a check cost above keepalived's).

// connectMany(epfd, domains: Int32Array, addresses: Uint8Array[], count, out: Int32Array): for each i < count,
// socket(domains[i], SOCK_STREAM) + connect(addresses[i]) + epoll_ctl(ADD, EPOLLOUT); out[i] is the descriptor,
// or -errno of the step that failed (its descriptor already closed).
Napi::Value ConnectMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int epfd = IntArg(info, 0, "epfd");
  Napi::Int32Array domains = Int32ArrayArg(info, 1, "domains");
  if (!info[2].IsArray()) throw Napi::TypeError::New(env, "addresses must be an array");
  Napi::Array addresses = info[2].As<Napi::Array>();
  Napi::Int32Array out = Int32ArrayArg(info, 4, "out");
  uint32_t count = static_cast<uint32_t>(IntArg(info, 3, "count"));
  if (count > domains.ElementLength() || count > addresses.Length() || count > out.ElementLength())
    throw Napi::RangeError::New(env, "count exceeds an argument's length");
  // Every argument is read before the first socket: a throw hands the caller no descriptor, so none may exist yet.
  std::vector<Napi::Uint8Array> addrs;
  addrs.reserve(count);
  for (uint32_t i = 0; i < count; i++) {
    Napi::Value a = addresses[i];
    if (!a.IsTypedArray() || a.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw Napi::TypeError::New(env, "addresses must hold Buffers or Uint8Arrays");
    addrs.push_back(a.As<Napi::Uint8Array>());
  }
  for (uint32_t i = 0; i < count; i++) {
    Napi::Uint8Array addr = addrs[i];
    int fd = socket(domains[i], SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) {
      out[i] = -errno;
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.fd = fd;
    if ((connect(fd, reinterpret_cast<sockaddr*>(addr.Data()), addr.ByteLength()) < 0 && errno != EINPROGRESS) ||
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
      out[i] = -errno;
      close(fd);
      continue;
    }
    out[i] = fd;
  }
  return env.Undefined();
}

// epollReap(epfd, out: Int32Array, connecting: Uint8Array) -> ready count, without blocking; out receives
// [fd, events, SO_ERROR] triples. SO_ERROR is read (and cleared) only for descriptors marked in `connecting`
// (indexed by descriptor), whose connect it completes; it is 0 for the others, which read their errors themselves.
Napi::Value EpollReap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int epfd = IntArg(info, 0, "epfd");
  Napi::Int32Array out = Int32ArrayArg(info, 1, "out");
  Napi::Uint8Array connecting = BytesArg(info, 2, "connecting");
  epoll_event events[1024];
  int n = EpollWaitNow(env, epfd, events, out.ElementLength() / 3);
  for (int i = 0; i < n; i++) {
    int fd = events[i].data.fd;
    int err = 0;
    if (fd >= 0 && static_cast<size_t>(fd) < connecting.ByteLength() && connecting[fd]) {
      socklen_t len = sizeof err;
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    }
    out[3 * i] = fd;
    out[3 * i + 1] = static_cast<int32_t>(events[i].events);
    out[3 * i + 2] = err;
  }
  return Napi::Number::New(env, n);
}

// closeMany(fds: Int32Array, count): closes fds[0..count); a failure is not reported (the descriptor is gone
// either way, as close(2) leaves it).
Napi::Value CloseMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Int32Array fds = Int32ArrayArg(info, 0, "fds");
  size_t count = static_cast<size_t>(IntArg(info, 1, "count"));
  if (count > fds.ElementLength()) throw Napi::RangeError::New(env, "count exceeds fds");
  for (size_t i = 0; i < count; i++) close(fds[i]);
  return env.Undefined();
}

// sendmsg(fd, iov: Uint8Array[], address?: Uint8Array, control?: Uint8Array, flags?: number) -> bytes sent
Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  if (!info[1].IsArray()) throw Napi::TypeError::New(env, "iov must be an array of Buffers");
  Napi::Array list = info[1].As<Napi::Array>();
  std::vector<iovec> iov(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value v = list[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw Napi::TypeError::New(env, "iov entries must be Buffers or Uint8Arrays");
    Napi::Uint8Array b = v.As<Napi::Uint8Array>();
    iov[i].iov_base = b.Data();
    iov[i].iov_len = b.ByteLength();
  }
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  if (info.Length() > 2 && !IsAbsent(info[2])) {
    Napi::Uint8Array addr = BytesArg(info, 2, "address");
    msg.msg_name = addr.Data();
    msg.msg_namelen = addr.ByteLength();
  }
  if (info.Length() > 3 && !IsAbsent(info[3])) {
    Napi::Uint8Array control = BytesArg(info, 3, "control");
    msg.msg_control = control.Data();
    msg.msg_controllen = control.ByteLength();
  }
  int flags = info.Length() > 4 && !IsAbsent(info[4]) ? IntArg(info, 4, "flags") : 0;
  ssize_t n;
  do n = sendmsg(fd, &msg, flags | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) ThrowErrno(env, errno, "sendmsg");
  return Napi::Number::New(env, static_cast<double>(n));
}

// recvmsg(fd, buffer, address: Uint8Array | null, control: Uint8Array | null, flags, out: Int32Array(3))
//   -> bytes received, or -1 when nothing is queued (EAGAIN). out = [address length, control length, msg_flags].
// Everything lands in caller-owned buffers: allocating result objects here cost ten times the syscall itself.
// `bytes` is the kernel's return value, so with MSG_TRUNC it may exceed buffer.length (the datagram's real size).
Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  Napi::Uint8Array buf = BytesArg(info, 1, "buffer");
  int flags = IntArg(info, 4, "flags");
  if (!info[5].IsTypedArray() || info[5].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      info[5].As<Napi::Int32Array>().ElementLength() < 3)
    throw Napi::TypeError::New(env, "out must be an Int32Array of 3");
  Napi::Int32Array out = info[5].As<Napi::Int32Array>();
  iovec iov{buf.Data(), buf.ByteLength()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!IsAbsent(info[2])) {
    Napi::Uint8Array addr = BytesArg(info, 2, "address");
    msg.msg_name = addr.Data();
    msg.msg_namelen = addr.ByteLength();
  }
  if (!IsAbsent(info[3])) {
    Napi::Uint8Array control = BytesArg(info, 3, "control");
    msg.msg_control = control.Data();
    msg.msg_controllen = control.ByteLength();
  }
  ssize_t n;
  do n = recvmsg(fd, &msg, flags);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
    ThrowErrno(env, errno, "recvmsg");
  }
  out[0] = static_cast<int32_t>(msg.msg_namelen);
  out[1] = static_cast<int32_t>(msg.msg_controllen);
  out[2] = msg.msg_flags;
  return Napi::Number::New(env, static_cast<double>(n));
}

// recvmany(fd, buffer, addresses, controls, flags, meta: Int32Array, datagramSize) -> datagrams received
// Drains up to (meta.length - 1) / 4 datagrams in one call, packed back to back in `buffer`; each recvmsg is
// offered `datagramSize` bytes and the loop stops once less than that remains or nothing is queued. Datagram
// i's source address goes to slot i of `addresses` (addresses.length / count bytes each), its control data to
// slot i of `controls` (may be null). meta[0] = errno of a failure met after at least one datagram (reported
// here because the kernel clears a pending socket error such as ENOBUFS once it has been returned), then per
// datagram [offset, bytes, msg_flags, address length | control length << 16]. Errors before any datagram throw.
Napi::Value RecvMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  Napi::Uint8Array buf = BytesArg(info, 1, "buffer");
  Napi::Uint8Array addrs = BytesArg(info, 2, "addresses");
  bool withControl = !IsAbsent(info[3]);
  Napi::Uint8Array ctrls = withControl ? BytesArg(info, 3, "controls") : Napi::Uint8Array();
  int flags = IntArg(info, 4, "flags");
  if (!info[5].IsTypedArray() || info[5].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(env, "meta must be an Int32Array");
  Napi::Int32Array meta = info[5].As<Napi::Int32Array>();
  size_t size = static_cast<size_t>(std::max(1, IntArg(info, 6, "datagramSize")));
  size_t max = meta.ElementLength() > 0 ? (meta.ElementLength() - 1) / 4 : 0;
  if (max == 0) throw Napi::RangeError::New(env, "meta has no room for a datagram");
  size_t addrSlot = addrs.ByteLength() / max;
  size_t ctrlSlot = withControl ? ctrls.ByteLength() / max : 0;
  uint8_t* base = buf.Data();
  size_t cap = buf.ByteLength(), off = 0, count = 0;
  meta[0] = 0;
  while (count < max && cap - off >= size) {
    iovec iov{base + off, size};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_name = addrSlot ? addrs.Data() + count * addrSlot : nullptr;
    msg.msg_namelen = addrSlot;
    msg.msg_control = ctrlSlot ? ctrls.Data() + count * ctrlSlot : nullptr;
    msg.msg_controllen = ctrlSlot;
    ssize_t n;
    do n = recvmsg(fd, &msg, flags);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (count == 0) ThrowErrno(env, errno, "recvmsg");
      meta[0] = errno;
      break;
    }
    size_t at = 1 + count * 4;
    meta[at] = static_cast<int32_t>(off);
    meta[at + 1] = static_cast<int32_t>(n);
    meta[at + 2] = msg.msg_flags;
    meta[at + 3] = static_cast<int32_t>((msg.msg_namelen & 0xffff) | (msg.msg_controllen << 16));
    off += std::min(static_cast<size_t>(n), size);
    off = (off + 7) & ~static_cast<size_t>(7);  // keep every datagram 8-byte aligned for typed views
    if (off > cap) off = cap;
    count++;
  }
  return Napi::Number::New(env, static_cast<double>(count));
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  // Linux releases the descriptor even when close reports EINTR, so retrying would close someone else's fd.
  if (close(fd) < 0 && errno != EINTR) ThrowErrno(info.Env(), errno, "close");
  return info.Env().Undefined();
}

Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "name must be a string");
  unsigned idx = if_nametoindex(info[0].As<Napi::String>().Utf8Value().c_str());
  if (idx == 0) ThrowErrno(info.Env(), errno, "if_nametoindex");
  return Napi::Number::New(info.Env(), idx);
}

Napi::Value IfIndexToName(const Napi::CallbackInfo& info) {
  char name[IF_NAMESIZE];
  if (!if_indextoname(IntArg(info, 0, "index"), name)) ThrowErrno(info.Env(), errno, "if_indextoname");
  return Napi::String::New(info.Env(), name);
}

class Poller;

// The uv handle outlives its Poller until libuv's close callback. While open it is registered as an async
// cleanup hook, so a Node environment that shuts down with the poller still open (a worker thread terminated,
// process exit) closes it before the loop goes away instead of crashing.
struct PollHandle {
  uv_poll_t poll;  // first member: the uv_handle_t* libuv hands back is this struct
  Poller* owner = nullptr;
  napi_async_cleanup_hook_handle hook = nullptr;
  bool closing = false;

  void Close() {
    if (closing) return;
    closing = true;
    owner = nullptr;
    poll.data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&poll), [](uv_handle_t* h) {
      auto* self = reinterpret_cast<PollHandle*>(h);
      if (self->hook) napi_remove_async_cleanup_hook(self->hook);
      delete self;
    });
  }
};

// Poller(fd, callback(error | null, readable, writable)) delivers readiness on the Node event loop.
// An exception thrown by the callback is handed to napi_fatal_exception, i.e. process 'uncaughtException'
// semantics: it never aborts in C++, and a process with an 'uncaughtException' handler keeps running.
class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Poller",
                       {InstanceMethod<&Poller::Start>("start"), InstanceMethod<&Poller::Stop>("stop"),
                        InstanceMethod<&Poller::RefLoop>("ref"), InstanceMethod<&Poller::UnrefLoop>("unref"),
                        InstanceMethod<&Poller::Close>("close")});
  }

  Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info) {
    Napi::Env env = info.Env();
    int fd = IntArg(info, 0, "fd");
    if (!info[1].IsFunction()) throw Napi::TypeError::New(env, "callback must be a function");
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
    auto* ph = new PollHandle;
    int rc = uv_poll_init_socket(loop, &ph->poll, fd);
    if (rc < 0) {
      delete ph;
      ThrowErrno(env, -rc, "uv_poll_init");
    }
    ph->owner = this;
    ph->poll.data = this;
    if (napi_add_async_cleanup_hook(env, OnEnvCleanup, ph, &ph->hook) != napi_ok) ph->hook = nullptr;
    ph_ = ph;
    handle_ = &ph->poll;
    fd_ = fd;
  }

  // The environment is going away with this poller open.
  static void OnEnvCleanup(napi_async_cleanup_hook_handle, void* arg) {
    auto* ph = static_cast<PollHandle*>(arg);
    if (ph->closing) return;  // its close callback removes the hook
    if (ph->owner) {
      ph->owner->handle_ = nullptr;
      ph->owner->ph_ = nullptr;
    }
    uv_poll_stop(&ph->poll);
    ph->Close();
  }

  ~Poller() override { CloseHandle(); }

 private:
  // start(readable: boolean, writable: boolean)
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!handle_) throw Napi::Error::New(env, "poller is closed");
    events_ = (info[0].ToBoolean() ? UV_READABLE : 0) | (info[1].ToBoolean() ? UV_WRITABLE : 0);
    int rc = uv_poll_start(handle_, events_, OnPoll);
    if (rc < 0) ThrowErrno(env, -rc, "uv_poll_start");
    // While polling, the JS object must stay alive even if the caller dropped it.
    if (!active_) Napi::ObjectWrap<Poller>::Ref();
    active_ = true;
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    StopPolling();
    return info.Env().Undefined();
  }

  Napi::Value RefLoop(const Napi::CallbackInfo& info) {
    if (handle_) uv_ref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  Napi::Value UnrefLoop(const Napi::CallbackInfo& info) {
    if (handle_) uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    StopPolling();
    CloseHandle();
    return info.Env().Undefined();
  }

  void StopPolling() {
    if (handle_) uv_poll_stop(handle_);
    if (active_) Napi::ObjectWrap<Poller>::Unref();
    active_ = false;
  }

  void CloseHandle() {
    if (!ph_) return;
    ph_->Close();
    ph_ = nullptr;
    handle_ = nullptr;
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<Poller*>(handle->data);
    if (!self || !self->active_) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    Napi::Value err = env.Null();
    if (status < 0) {
      // libuv turns EPOLLERR into UV_EBADF and stops the handle. The real cause is a pending socket error
      // (ENOBUFS on a netlink socket whose queue overflowed, ECONNREFUSED after an ICMP error): reading
      // SO_ERROR clears it, so report that errno and keep polling.
      int code = -status, soerr = 0;
      socklen_t len = sizeof soerr;
      if (status == UV_EBADF && getsockopt(self->fd_, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr != 0) {
        code = soerr;
        uv_poll_start(handle, self->events_, OnPoll);
      }
      err = ErrnoError(env, code, "poll").Value();
    }
    try {
      self->callback_.MakeCallback(env.Global(), {err, Napi::Boolean::New(env, (events & UV_READABLE) != 0),
                                                  Napi::Boolean::New(env, (events & UV_WRITABLE) != 0)});
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }

  Napi::FunctionReference callback_;
  PollHandle* ph_ = nullptr;
  uv_poll_t* handle_ = nullptr;
  int fd_ = -1;
  int events_ = 0;
  bool active_ = false;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("socket", Napi::Function::New<Socket>(env, "socket"));
  exports.Set("bind", Napi::Function::New<Bind>(env, "bind"));
  exports.Set("connect", Napi::Function::New<Connect>(env, "connect"));
  exports.Set("getsockname", Napi::Function::New<GetSockName>(env, "getsockname"));
  exports.Set("setsockopt", Napi::Function::New<SetSockOpt>(env, "setsockopt"));
  exports.Set("getsockopt", Napi::Function::New<GetSockOpt>(env, "getsockopt"));
  exports.Set("socketError", Napi::Function::New<SocketError>(env, "socketError"));
  exports.Set("epollCreate", Napi::Function::New<EpollCreate>(env, "epollCreate"));
  exports.Set("epollCtl", Napi::Function::New<EpollCtl>(env, "epollCtl"));
  exports.Set("epollWait", Napi::Function::New<EpollWait>(env, "epollWait"));
  exports.Set("connectMany", Napi::Function::New<ConnectMany>(env, "connectMany"));
  exports.Set("epollReap", Napi::Function::New<EpollReap>(env, "epollReap"));
  exports.Set("closeMany", Napi::Function::New<CloseMany>(env, "closeMany"));
  exports.Set("sendmsg", Napi::Function::New<SendMsg>(env, "sendmsg"));
  exports.Set("recvmsg", Napi::Function::New<RecvMsg>(env, "recvmsg"));
  exports.Set("recvmany", Napi::Function::New<RecvMany>(env, "recvmany"));
  exports.Set("close", Napi::Function::New<Close>(env, "close"));
  exports.Set("ifNameToIndex", Napi::Function::New<IfNameToIndex>(env, "ifNameToIndex"));
  exports.Set("ifIndexToName", Napi::Function::New<IfIndexToName>(env, "ifIndexToName"));
  exports.Set("Poller", Poller::Init(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(ipvs_ts_sys, Init)
