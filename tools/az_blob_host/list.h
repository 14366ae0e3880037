/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal intrusive doubly linked list, shaped like the kernel's
 * list_head, for the host VSP's request and completion queues.
 */
#ifndef AZ_BLOB_HOST_LIST_H
#define AZ_BLOB_HOST_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct az_list {
	struct az_list *next;
	struct az_list *prev;
};

#define az_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define az_list_entry(ptr, type, member) az_container_of(ptr, type, member)

#define az_list_first(head, type, member) \
	az_list_entry((head)->next, type, member)

static inline void az_list_init(struct az_list *head)
{
	head->next = head;
	head->prev = head;
}

static inline bool az_list_empty(const struct az_list *head)
{
	return head->next == head;
}

static inline void az_list_add_tail(struct az_list *node, struct az_list *head)
{
	node->prev = head->prev;
	node->next = head;
	head->prev->next = node;
	head->prev = node;
}

/* Unlink @node and leave it pointing at itself (safe to delete twice). */
static inline void az_list_del(struct az_list *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	az_list_init(node);
}

/* Iterate where the body may delete the current node. */
#define az_list_for_each_safe(pos, tmp, head) \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif /* AZ_BLOB_HOST_LIST_H */
