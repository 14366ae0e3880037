// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The worker threads of one transfer: a fixed number of threads taking
 * tasks from a FIFO. The transfer code bounds how many tasks (and so how
 * many buffers) exist at once; the pool only runs them.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "azb.h"

struct azb_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct azb_task *head, *tail;
	bool closing;
	unsigned int n;
	pthread_t th[];
};

static void *worker(void *arg)
{
	struct azb_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct azb_task *t = p->head;

		if (!t) {
			if (p->closing)
				break;
			pthread_cond_wait(&p->cond, &p->lock);
			continue;
		}
		p->head = t->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		t->fn(t);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int azb_pool_start(struct azb_pool **out, unsigned int threads)
{
	struct azb_pool *p = calloc(1, sizeof(*p) + threads * sizeof(pthread_t));
	sigset_t all, old;

	if (!p)
		return -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	/* Workers take no signals: they stay with the caller's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; p->n < threads; p->n++)
		if (pthread_create(&p->th[p->n], NULL, worker, p))
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!p->n) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return -1;
	}
	*out = p;
	return 0;
}

void azb_pool_submit(struct azb_pool *p, struct azb_task *t)
{
	t->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = t;
	else
		p->head = t;
	p->tail = t;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void azb_pool_finish(struct azb_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->closing = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned int i = 0; i < p->n; i++)
		pthread_join(p->th[i], NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
