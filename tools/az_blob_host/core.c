// SPDX-License-Identifier: GPL-2.0
/*
 * The host VSP's core: request lifecycle, worker pool, timeouts, closes,
 * completions, heartbeat. See core.h for who touches guest memory when.
 *
 * Locking: one mutex (c->lock) guards every request list, the counters,
 * the session pointer and the completion ring. The submission ring is the
 * main thread's alone. Services run without the lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "list.h"
#include "ring.h"
#include "util.h"
#include "validate.h"

enum az_req_state {
	AZ_REQ_QUEUED,		/* in c->queue: no worker has seen it */
	AZ_REQ_RUNNING,		/* a worker is in the service's execute() */
};

enum az_req_why {
	AZ_WHY_NONE,		/* not cancelled */
	AZ_WHY_TIMEOUT,		/* deadline passed: answer AZ_HOST_TIMEOUT */
	AZ_WHY_CLOSE,		/* the guest closed the channel: no answer */
	AZ_WHY_STOP,		/* the host stops serving: no answer */
};

/* A CLOSE record waiting for its requests to let go. */
struct az_close {
	struct az_list node;	/* c->closes, in ring order */
	uint64_t cookie;
	unsigned int pending;	/* its requests still running */
};

struct az_req {
	struct az_list qnode;	/* c->queue while queued */
	struct az_list anode;	/* c->active until finished */
	enum az_req_state state;
	enum az_req_why why;
	atomic_int cancel;
	uint64_t cookie;
	uint16_t gen;
	uint64_t taken_ns;
	uint64_t cancel_ns;
	bool warned;
	struct az_close *close;
	const struct az_host_service *svc;
	struct az_req_info info;
	struct az_host_req hreq;
	struct iovec iov[];	/* data, request, response pieces */
};

/* A record for the completion ring that waits for room. */
struct az_cq_item {
	struct az_list node;
	uint16_t type;
	uint64_t cookie;
	uint32_t plen;
	struct az_relay_completion comp;
};

struct az_core {
	pthread_mutex_t lock;
	pthread_cond_t work_cv;		/* workers: queue not empty, or stop */
	pthread_cond_t idle_cv;		/* running dropped to 0 */
	pthread_cond_t hb_cv;		/* heartbeat: stop */

	struct az_ram_layout ram;
	const struct az_host_service *svcs[AZ_CORE_MAX_SERVICES];
	unsigned int nsvcs;
	int verbose;
	unsigned int nthreads;
	pthread_t *workers;
	unsigned int nworkers;
	pthread_t hb_thread;
	bool hb_started;
	bool stop;
	int wake_fd;

	/* The session: NULL shm when no guest. */
	struct az_relay_shm *shm;
	int irq_fd;
	struct az_ring sq;		/* main thread only */
	struct az_ring cq;
	bool serving;
	bool throttled;

	struct az_list queue;
	struct az_list active;
	struct az_list closes;
	struct az_list cq_backlog;
	unsigned int outstanding;	/* queued + running */
	unsigned int running;

	/* Main thread scratch: a packet's copy, its pages' file offsets. */
	uint8_t *pkt_buf;
	uint64_t *page_off;

	struct az_core_stats st;
};

static void az_core_gone_locked(struct az_core *c, const char *why);

const struct az_req_info *az_core_req_info(const struct az_host_req *req)
{
	return &az_container_of(req, struct az_req, hreq)->info;
}

bool az_host_wait_cancel(const struct az_host_req *req, uint64_t until_ns)
{
	for (;;) {
		if (atomic_load(req->cancel))
			return true;
		if (until_ns && az_now_ns() >= until_ns)
			return false;
		az_futex_wait(req->cancel, 0, until_ns);
	}
}

/* ------------------------------------------------------------------ */
/* Completion ring                                                     */

static void az_core_signal_guest(struct az_core *c)
{
	if (c->irq_fd >= 0)
		az_eventfd_signal(c->irq_fd);
}

static enum az_ring_status az_core_cq_write(struct az_core *c,
					    const struct az_cq_item *it)
{
	return az_ring_put_or_wait(&c->cq, it->type, 0, it->cookie,
				   it->plen ? &it->comp : NULL, it->plen);
}

/* Write what waited for room, in order. */
static void az_core_cq_flush_locked(struct az_core *c)
{
	bool wrote = false;

	while (c->serving && !az_list_empty(&c->cq_backlog)) {
		struct az_cq_item *it = az_list_first(&c->cq_backlog,
						      struct az_cq_item, node);
		enum az_ring_status s = az_core_cq_write(c, it);

		if (s == AZ_RING_FULL)
			break;
		if (az_ring_broken(s)) {
			az_core_gone_locked(c, az_ring_strerror(s));
			break;
		}
		az_list_del(&it->node);
		free(it);
		wrote = true;
	}
	if (wrote && c->serving) {
		az_ring_publish_write(&c->cq);
		az_core_signal_guest(c);
	}
}

/* Queue one record for the guest, behind any that wait for room. */
static void az_core_cq_put_locked(struct az_core *c, uint16_t type,
				  uint64_t cookie,
				  const struct az_relay_completion *comp)
{
	struct az_cq_item *it;

	if (!c->serving)
		return;
	it = calloc(1, sizeof(*it));
	if (!it) {
		az_core_gone_locked(c, "out of memory for a completion");
		return;
	}
	it->type = type;
	it->cookie = cookie;
	if (comp) {
		it->comp = *comp;
		it->plen = sizeof(*comp);
	}
	az_list_add_tail(&it->node, &c->cq_backlog);
	az_core_cq_flush_locked(c);
}

static void az_core_complete_locked(struct az_core *c, uint64_t cookie,
				    uint32_t status, uint32_t resp_len)
{
	struct az_relay_completion comp = {
		.length = 0,
		.error = htole32(status),
		.response_len = htole32(resp_len),
	};

	if (!c->serving)
		return;
	c->st.completed++;
	az_core_cq_put_locked(c, AZ_RELAY_REC_COMPLETION, cookie, &comp);
}

/* Send CLOSED for every close, in order, whose requests all let go. */
static void az_core_emit_closes_locked(struct az_core *c)
{
	while (!az_list_empty(&c->closes)) {
		struct az_close *cl = az_list_first(&c->closes,
						    struct az_close, node);

		if (cl->pending)
			break;
		if (c->verbose)
			az_log("closed generation %llu",
			       (unsigned long long)cl->cookie);
		az_core_cq_put_locked(c, AZ_RELAY_REC_CLOSED, cl->cookie, NULL);
		az_list_del(&cl->node);
		free(cl);
	}
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */

static void az_req_cancel(struct az_req *r, enum az_req_why why)
{
	r->why = why;
	if (!r->cancel_ns)
		r->cancel_ns = az_now_ns();
	atomic_store(&r->cancel, 1);
	az_futex_wake(&r->cancel);
}

/* A request leaves c->active; the caller frees it. */
static void az_core_unlink_locked(struct az_core *c, struct az_req *r)
{
	az_list_del(&r->anode);
	az_list_del(&r->qnode);
	c->outstanding--;
	if (c->throttled && c->outstanding < AZ_CORE_MAX_OUTSTANDING) {
		c->throttled = false;
		az_eventfd_signal(c->wake_fd);
	}
}

/*
 * Cancel every request: queued ones are dropped, running ones told to
 * stop. None of them will be answered.
 */
static void az_core_cancel_all_locked(struct az_core *c)
{
	struct az_list *pos, *tmp;

	az_list_for_each_safe(pos, tmp, &c->active) {
		struct az_req *r = az_list_entry(pos, struct az_req, anode);

		if (r->state == AZ_REQ_QUEUED) {
			az_core_unlink_locked(c, r);
			c->st.cancelled++;
			free(r);
		} else if (r->why != AZ_WHY_CLOSE && r->why != AZ_WHY_STOP) {
			az_req_cancel(r, AZ_WHY_STOP);
		}
	}
}

/* The relay broke the protocol: stop serving it (az_relay.h). */
static void az_core_gone_locked(struct az_core *c, const char *why)
{
	if (!c->serving)
		return;
	az_log("guest broke the relay (%s): state GONE", why);
	c->serving = false;
	az_store_release32(&c->shm->host_state, AZ_RELAY_HOST_GONE);
	az_core_signal_guest(c);
	az_core_cancel_all_locked(c);
}

static void az_core_close_locked(struct az_core *c, uint64_t cookie)
{
	struct az_list *pos, *tmp;
	struct az_close *cl;

	c->st.closes++;
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		az_core_gone_locked(c, "out of memory for a close");
		return;
	}
	cl->cookie = cookie;
	/*
	 * Every request still outstanding belongs to the generation being
	 * closed (or to an earlier one): later packets follow the CLOSE.
	 */
	az_list_for_each_safe(pos, tmp, &c->active) {
		struct az_req *r = az_list_entry(pos, struct az_req, anode);

		if (r->state == AZ_REQ_QUEUED) {
			az_core_unlink_locked(c, r);
			c->st.cancelled++;
			free(r);
		} else if (r->why != AZ_WHY_CLOSE) {
			r->close = cl;
			cl->pending++;
			az_req_cancel(r, AZ_WHY_CLOSE);
		}
	}
	if (c->verbose)
		az_log("close of generation %llu: %u running request(s) to stop",
		       (unsigned long long)cookie, cl->pending);
	az_list_add_tail(&cl->node, &c->closes);
	az_core_emit_closes_locked(c);
}

static void az_core_log_req(const struct az_req *r, uint32_t status,
			    uint32_t resp_len, const char *note)
{
	uint64_t us = (az_now_ns() - r->taken_ns) / 1000;

	az_log("gen %u cookie %llu %s: req %zu resp %zu data %zu/%u timeout %u ms -> status %#x response_len %u in %llu.%03llu ms%s",
	       r->gen, (unsigned long long)r->cookie, r->svc->name,
	       r->hreq.request.len, r->hreq.response.len, r->hreq.data.len,
	       r->hreq.data_valid, r->hreq.timeout_ms, status, resp_len,
	       (unsigned long long)(us / 1000),
	       (unsigned long long)(us % 1000), note);
}

/* A worker is back from execute(): answer (or not), free. */
static void az_core_finish_locked(struct az_core *c, struct az_req *r,
				  struct az_host_result *res)
{
	uint32_t status = res->status, len = res->response_len;
	const char *note = "";

	az_core_unlink_locked(c, r);
	c->running--;
	if (len > r->hreq.response.len) {
		az_log("service %s claims response_len %u of a %zu-byte buffer",
		       r->svc->name, len, r->hreq.response.len);
		len = (uint32_t)r->hreq.response.len;
	}
	switch (r->why) {
	case AZ_WHY_CLOSE:
		c->st.cancelled++;
		r->close->pending--;
		az_core_emit_closes_locked(c);
		note = " (closed: not answered)";
		break;
	case AZ_WHY_STOP:
		c->st.cancelled++;
		note = " (stopped: not answered)";
		break;
	case AZ_WHY_TIMEOUT:
		/*
		 * Cut off at its deadline (however the service reports
		 * being stopped), unless it finished just then.
		 */
		if (status != AZ_HOST_OK) {
			status = AZ_HOST_TIMEOUT;
			len = 0;
			c->st.timeouts++;
		}
		note = " (deadline)";
		az_core_complete_locked(c, r->cookie, status, len);
		break;
	case AZ_WHY_NONE:
		az_core_complete_locked(c, r->cookie, status, len);
		break;
	}
	if (c->verbose)
		az_core_log_req(r, status, len, note);
	if (!c->running) {
		pthread_cond_broadcast(&c->idle_cv);
		if (!c->serving)
			az_eventfd_signal(c->wake_fd);
	}
	free(r);
}

static void *az_core_worker(void *arg)
{
	struct az_core *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct az_host_result res = { 0 };
		struct az_req *r;

		while (!c->stop && az_list_empty(&c->queue))
			pthread_cond_wait(&c->work_cv, &c->lock);
		if (c->stop)
			break;
		r = az_list_first(&c->queue, struct az_req, qnode);
		az_list_del(&r->qnode);
		r->state = AZ_REQ_RUNNING;
		c->running++;
		pthread_mutex_unlock(&c->lock);

		r->svc->execute(r->svc->ctx, &r->hreq, &res);

		pthread_mutex_lock(&c->lock);
		az_core_finish_locked(c, r, &res);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Submission ring                                                     */

static const struct az_host_service *
az_core_pick_service(struct az_core *c, const struct az_host_buf *request)
{
	uint8_t head[16];
	size_t n = request->len < sizeof(head) ? request->len : sizeof(head);
	unsigned int i;

	/* One read of the magic; the service reads (and checks) its own copy. */
	if (az_host_buf_read(request, 0, head, n))
		return NULL;
	for (i = 0; i < c->nsvcs; i++) {
		const struct az_host_service *s = c->svcs[i];

		if (s->magic_len <= n && !memcmp(head, s->magic, s->magic_len))
			return s;
	}
	return NULL;
}

/* Map one buffer; 0, or -1 if the packet's offsets do not allow it. */
static int az_core_map_buf(struct az_core *c, const struct az_packet *p,
			   uint32_t off, uint32_t len, struct iovec *iov,
			   unsigned int max, struct az_host_buf *buf)
{
	int n = az_ram_iov(&c->ram, c->page_off, p->nr_pfns, off, len, iov,
			   max);

	if (n < 0)
		return -1;
	buf->iov = iov;
	buf->iovcnt = (unsigned int)n;
	buf->len = len;
	return 0;
}

/* Answer a packet the core refuses, without touching guest memory. */
static void az_core_refuse(struct az_core *c, const struct az_relay_rec *h,
			   uint32_t status, const char *why)
{
	if (c->verbose)
		az_log("gen %u cookie %llu refused: %s -> status %#x",
		       h->gen, (unsigned long long)h->cookie, why, status);
	pthread_mutex_lock(&c->lock);
	az_core_complete_locked(c, h->cookie, status, 0);
	pthread_mutex_unlock(&c->lock);
}

static void az_core_packet(struct az_core *c, const struct az_relay_rec *h,
			   const uint8_t *payload)
{
	uint32_t plen = h->len - AZ_REC_HDR, i, nd, nq, nr;
	const struct az_wire_req *w;
	enum az_pkt_status st;
	struct az_packet p;
	struct az_req *r;

	c->st.packets++;
	/* The one copy of the packet: nothing below reads the ring again. */
	if (plen > AZ_VMBUS_MAX_PKT)
		plen = AZ_VMBUS_MAX_PKT;
	memcpy(c->pkt_buf, payload, plen);

	st = az_packet_parse(c->pkt_buf, plen, &p);
	for (i = 0; st == AZ_PKT_OK && i < p.nr_pfns; i++)
		if (!az_pfn_to_off(&c->ram, az_packet_pfn(&p, i),
				   &c->page_off[i]))
			st = AZ_PKT_BAD_PFN;
	if (st != AZ_PKT_OK) {
		c->st.invalid++;
		az_core_refuse(c, h, AZ_HOST_INVALID_DATA, az_pkt_strerror(st));
		return;
	}

	w = &p.req;
	nd = az_pages_spanned(w->data_offset, w->data_length);
	nq = az_pages_spanned(w->request_offset, w->request_length);
	nr = az_pages_spanned(w->response_offset, w->response_length);
	r = calloc(1, sizeof(*r) + (size_t)(nd + nq + nr) * sizeof(r->iov[0]));
	if (!r) {
		az_core_refuse(c, h, AZ_HOST_OUT_OF_MEMORY, "out of memory");
		return;
	}
	if (az_core_map_buf(c, &p, w->data_offset, w->data_length, r->iov,
			    nd, &r->hreq.data) ||
	    az_core_map_buf(c, &p, w->request_offset, w->request_length,
			    r->iov + nd, nq, &r->hreq.request) ||
	    az_core_map_buf(c, &p, w->response_offset, w->response_length,
			    r->iov + nd + nq, nr, &r->hreq.response)) {
		free(r);
		c->st.invalid++;
		az_core_refuse(c, h, AZ_HOST_INVALID_DATA, "buffer mapping");
		return;
	}

	az_list_init(&r->qnode);
	az_list_init(&r->anode);
	atomic_init(&r->cancel, 0);
	r->cookie = h->cookie;
	r->gen = h->gen;
	r->taken_ns = az_now_ns();
	memcpy(r->info.raw_req, p.raw_req, sizeof(r->info.raw_req));
	r->info.range_offset = p.range_offset;
	r->info.range_len = p.range_len;
	r->info.nr_pfns = p.nr_pfns;
	r->info.pkt_type = p.type;
	r->info.pkt_flags = p.flags;
	r->info.rangecount = p.rangecount;
	r->info.taken_ns = r->taken_ns;
	r->hreq.timeout_ms = w->timeout_ms;
	r->hreq.deadline_ns = w->timeout_ms ?
		r->taken_ns + (uint64_t)w->timeout_ms * AZ_NSEC_PER_MSEC : 0;
	r->hreq.cancel = &r->cancel;
	memcpy(r->hreq.transaction_id, w->transaction_id,
	       sizeof(r->hreq.transaction_id));
	r->hreq.data_valid = w->data_valid;

	r->svc = az_core_pick_service(c, &r->hreq.request);
	if (!r->svc) {
		free(r);
		c->st.unserved++;
		az_core_refuse(c, h, AZ_HOST_INVALID_ARG, "no service for it");
		return;
	}

	pthread_mutex_lock(&c->lock);
	if (!c->serving) {
		pthread_mutex_unlock(&c->lock);
		free(r);
		return;
	}
	r->state = AZ_REQ_QUEUED;
	az_list_add_tail(&r->anode, &c->active);
	az_list_add_tail(&r->qnode, &c->queue);
	if (++c->outstanding >= AZ_CORE_MAX_OUTSTANDING)
		c->throttled = true;
	pthread_cond_signal(&c->work_cv);
	pthread_mutex_unlock(&c->lock);
}

/* Returns true when records may be left (batch limit). */
static bool az_core_drain_sq(struct az_core *c)
{
	unsigned int n;
	bool ok;

	for (n = 0; n < AZ_CORE_SQ_BATCH; n++) {
		const uint8_t *payload;
		struct az_relay_rec h;
		enum az_ring_status s;

		/*
		 * Back-pressure: no new packet while the guest leaves no room
		 * for completions, or holds too many requests.
		 */
		pthread_mutex_lock(&c->lock);
		ok = c->serving && !c->throttled &&
		     az_list_empty(&c->cq_backlog);
		pthread_mutex_unlock(&c->lock);
		if (!ok)
			break;
		s = az_ring_next(&c->sq, &h, &payload);
		if (s == AZ_RING_EMPTY)
			break;
		if (az_ring_broken(s)) {
			pthread_mutex_lock(&c->lock);
			az_core_gone_locked(c, az_ring_strerror(s));
			pthread_mutex_unlock(&c->lock);
			return false;
		}
		switch (h.type) {
		case AZ_RELAY_REC_PAD:
			break;
		case AZ_RELAY_REC_PACKET:
			az_core_packet(c, &h, payload);
			break;
		case AZ_RELAY_REC_CLOSE:
			pthread_mutex_lock(&c->lock);
			az_core_close_locked(c, h.cookie);
			pthread_mutex_unlock(&c->lock);
			break;
		default:
			pthread_mutex_lock(&c->lock);
			az_core_gone_locked(c, "record type not for the submission ring");
			pthread_mutex_unlock(&c->lock);
			return false;
		}
		az_ring_advance(&c->sq, h.len);
	}
	if (n && az_ring_publish_read(&c->sq))
		az_core_signal_guest(c);
	return n == AZ_CORE_SQ_BATCH;
}

/*
 * Answer or cancel what passed its deadline; report services that ignore
 * a cancel. Returns the next time to look (0: nothing to wait for).
 */
static uint64_t az_core_timeouts_locked(struct az_core *c, uint64_t now)
{
	uint64_t next = 0, t;
	struct az_list *pos, *tmp;

	az_list_for_each_safe(pos, tmp, &c->active) {
		struct az_req *r = az_list_entry(pos, struct az_req, anode);

		if (r->why == AZ_WHY_NONE) {
			if (!r->hreq.deadline_ns)
				continue;
			t = r->hreq.deadline_ns;
			if (t <= now && r->state == AZ_REQ_QUEUED) {
				/* No worker ever saw it: answer now. */
				az_core_unlink_locked(c, r);
				c->st.timeouts++;
				if (c->verbose)
					az_core_log_req(r, AZ_HOST_TIMEOUT,
							0, " (deadline, queued)");
				az_core_complete_locked(c, r->cookie,
							AZ_HOST_TIMEOUT, 0);
				free(r);
				/* A broken ring there cancels everything. */
				if (!c->serving)
					return 0;
				continue;
			}
			if (t <= now) {
				az_req_cancel(r, AZ_WHY_TIMEOUT);
				t = r->cancel_ns +
				    AZ_CORE_CANCEL_WARN_MS * AZ_NSEC_PER_MSEC;
			}
		} else {
			if (r->warned || r->state != AZ_REQ_RUNNING)
				continue;
			t = r->cancel_ns + AZ_CORE_CANCEL_WARN_MS * AZ_NSEC_PER_MSEC;
			if (t <= now) {
				r->warned = true;
				az_log("service %s still busy %u ms after a cancel (gen %u cookie %llu)",
				       r->svc->name, AZ_CORE_CANCEL_WARN_MS,
				       r->gen, (unsigned long long)r->cookie);
				continue;
			}
		}
		if (!next || t < next)
			next = t;
	}
	return next;
}

int az_core_run(struct az_core *c)
{
	uint64_t next, now;
	bool more = false;
	int ms = AZ_CORE_TICK_MS;

	pthread_mutex_lock(&c->lock);
	if (!c->shm) {
		pthread_mutex_unlock(&c->lock);
		return -1;
	}
	pthread_mutex_unlock(&c->lock);

	pthread_mutex_lock(&c->lock);
	az_core_cq_flush_locked(c);
	pthread_mutex_unlock(&c->lock);

	more = az_core_drain_sq(c);

	pthread_mutex_lock(&c->lock);
	now = az_now_ns();
	next = az_core_timeouts_locked(c, now);
	pthread_mutex_unlock(&c->lock);

	if (more)
		return 0;
	if (next) {
		now = az_now_ns();
		next = next > now ? (next - now + AZ_NSEC_PER_MSEC - 1) /
				    AZ_NSEC_PER_MSEC : 0;
		if (next < (uint64_t)ms)
			ms = (int)next;
	}
	return ms;
}

/* ------------------------------------------------------------------ */
/* Heartbeat                                                           */

static void *az_core_heartbeat(void *arg)
{
	struct az_core *c = arg;
	uint64_t next = az_now_ns();
	struct timespec ts;

	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		uint64_t now = az_now_ns();

		if (now >= next) {
			if (c->shm && c->serving) {
				uint64_t hb = le64toh(__atomic_load_n(
					(uint64_t *)&c->shm->heartbeat,
					__ATOMIC_RELAXED));

				__atomic_store_n((uint64_t *)&c->shm->heartbeat,
						 htole64(hb + 1),
						 __ATOMIC_RELEASE);
				c->st.heartbeats++;
			}
			next += AZ_RELAY_HEARTBEAT_MS * AZ_NSEC_PER_MSEC;
			if (next <= now)
				next = now + AZ_RELAY_HEARTBEAT_MS *
					     AZ_NSEC_PER_MSEC;
		}
		ts.tv_sec = (time_t)(next / AZ_NSEC_PER_SEC);
		ts.tv_nsec = (long)(next % AZ_NSEC_PER_SEC);
		pthread_cond_timedwait(&c->hb_cv, &c->lock, &ts);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */

struct az_core *az_core_new(const struct az_core_cfg *cfg,
			    const struct az_ram_layout *ram)
{
	pthread_condattr_t ca;
	struct az_core *c;

	if (!cfg->threads || cfg->threads > AZ_CORE_MAX_THREADS) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ram = *ram;
	c->verbose = cfg->verbose;
	c->nthreads = cfg->threads;
	c->irq_fd = -1;
	az_list_init(&c->queue);
	az_list_init(&c->active);
	az_list_init(&c->closes);
	az_list_init(&c->cq_backlog);
	c->pkt_buf = malloc(AZ_VMBUS_MAX_PKT);
	c->page_off = calloc(AZ_BLOB_MAX_PFNS, sizeof(*c->page_off));
	c->workers = calloc(cfg->threads, sizeof(*c->workers));
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!c->pkt_buf || !c->page_off || !c->workers || c->wake_fd < 0)
		goto fail;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->work_cv, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->idle_cv, &ca);
	pthread_cond_init(&c->hb_cv, &ca);
	pthread_condattr_destroy(&ca);
	return c;

fail:
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	free(c->workers);
	free(c->page_off);
	free(c->pkt_buf);
	free(c);
	return NULL;
}

int az_core_add_service(struct az_core *c, const struct az_host_service *svc)
{
	if (c->nsvcs == AZ_CORE_MAX_SERVICES || !svc->magic_len ||
	    svc->magic_len > 16)
		return -1;
	c->svcs[c->nsvcs++] = svc;
	return 0;
}

int az_core_start(struct az_core *c)
{
	int err;

	for (c->nworkers = 0; c->nworkers < c->nthreads; c->nworkers++) {
		err = pthread_create(&c->workers[c->nworkers], NULL,
				     az_core_worker, c);
		if (err) {
			errno = err;
			return -1;
		}
	}
	err = pthread_create(&c->hb_thread, NULL, az_core_heartbeat, c);
	if (err) {
		errno = err;
		return -1;
	}
	c->hb_started = true;
	return 0;
}

int az_core_wake_fd(const struct az_core *c)
{
	return c->wake_fd;
}

void az_core_attach(struct az_core *c, struct az_relay_shm *shm, int irq_fd)
{
	pthread_mutex_lock(&c->lock);
	c->shm = shm;
	c->irq_fd = irq_fd;
	az_ring_init(&c->sq, &shm->sq, (uint8_t *)shm + AZ_RELAY_SQ_OFFSET,
		     AZ_RELAY_SQ_SIZE);
	az_ring_init(&c->cq, &shm->cq, (uint8_t *)shm + AZ_RELAY_CQ_OFFSET,
		     AZ_RELAY_CQ_SIZE);
	c->serving = true;
	c->throttled = false;
	az_store_release32(&shm->host_state, AZ_RELAY_HOST_READY);
	pthread_mutex_unlock(&c->lock);
}

void az_core_detach_begin(struct az_core *c)
{
	pthread_mutex_lock(&c->lock);
	c->serving = false;
	az_core_cancel_all_locked(c);
	pthread_mutex_unlock(&c->lock);
}

bool az_core_idle(struct az_core *c)
{
	bool idle;

	pthread_mutex_lock(&c->lock);
	idle = !c->outstanding;
	pthread_mutex_unlock(&c->lock);
	return idle;
}

static void az_core_drop_session_locked(struct az_core *c)
{
	while (!az_list_empty(&c->cq_backlog)) {
		struct az_cq_item *it = az_list_first(&c->cq_backlog,
						      struct az_cq_item, node);

		az_list_del(&it->node);
		free(it);
	}
	while (!az_list_empty(&c->closes)) {
		struct az_close *cl = az_list_first(&c->closes,
						    struct az_close, node);

		az_list_del(&cl->node);
		free(cl);
	}
}

void az_core_detach(struct az_core *c)
{
	pthread_mutex_lock(&c->lock);
	az_core_drop_session_locked(c);
	c->shm = NULL;
	c->irq_fd = -1;
	c->serving = false;
	pthread_mutex_unlock(&c->lock);
}

bool az_core_shutdown(struct az_core *c, unsigned int wait_ms)
{
	uint64_t until = az_now_ns() + (uint64_t)wait_ms * AZ_NSEC_PER_MSEC;
	struct timespec ts = {
		.tv_sec = (time_t)(until / AZ_NSEC_PER_SEC),
		.tv_nsec = (long)(until % AZ_NSEC_PER_SEC),
	};
	bool idle;

	pthread_mutex_lock(&c->lock);
	c->serving = false;
	az_core_cancel_all_locked(c);
	while (c->running &&
	       pthread_cond_timedwait(&c->idle_cv, &c->lock, &ts) != ETIMEDOUT)
		;
	idle = !c->running;
	pthread_mutex_unlock(&c->lock);
	return idle;
}

void az_core_set_gone(struct az_core *c)
{
	pthread_mutex_lock(&c->lock);
	c->serving = false;
	if (c->shm) {
		az_store_release32(&c->shm->host_state, AZ_RELAY_HOST_GONE);
		az_core_signal_guest(c);
	}
	pthread_mutex_unlock(&c->lock);
}

void az_core_get_stats(struct az_core *c, struct az_core_stats *st)
{
	pthread_mutex_lock(&c->lock);
	*st = c->st;
	pthread_mutex_unlock(&c->lock);
}

void az_core_free(struct az_core *c)
{
	unsigned int i;

	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_broadcast(&c->work_cv);
	pthread_cond_broadcast(&c->hb_cv);
	pthread_mutex_unlock(&c->lock);
	for (i = 0; i < c->nworkers; i++)
		pthread_join(c->workers[i], NULL);
	if (c->hb_started)
		pthread_join(c->hb_thread, NULL);

	pthread_mutex_lock(&c->lock);
	c->serving = false;
	az_core_cancel_all_locked(c);
	az_core_drop_session_locked(c);
	pthread_mutex_unlock(&c->lock);

	pthread_cond_destroy(&c->hb_cv);
	pthread_cond_destroy(&c->idle_cv);
	pthread_cond_destroy(&c->work_cv);
	pthread_mutex_destroy(&c->lock);
	close(c->wake_fd);
	free(c->workers);
	free(c->page_off);
	free(c->pkt_buf);
	free(c);
}
