/* queue.h: a FIFO queue of ints, shared by queue.pop (which defines it) and its users. */
#ifndef QUEUE_H
#define QUEUE_H

?struct cell { int item; cell next; }
struct queue { cell front; cell back; int length; }

extern int queues_made;
extern queue queue_create();
extern bool queue_is_empty(queue q);
extern void queue_push(queue q, int x);
extern int queue_pop(queue q);

#endif
