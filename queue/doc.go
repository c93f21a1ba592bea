// Package queue has the queues of Python's queue module, Evergreen and
// gevent for the tasks of a loop (Queue, LifoQueue and PriorityQueue,
// generic over the element type), and Evergreen's rendezvous Channel.
//
// A producer puts items in and a consumer takes them out; a bounded queue
// (maxsize above 0) parks producers while it is full, which is how a
// pipeline or a crawler's frontier applies back-pressure. TaskDone and Join
// let a producer wait until every item it put has been dealt with, and
// Shutdown ends a queue for good, waking everyone waiting on it.
//
// # Calling context
//
// Not goroutine-safe: a queue or channel belongs to one loop, the loop of the
// first task that passes it a ctx, and refuses tasks of another loop with
// scheduler.ErrWrongLoop. Calls that take no ctx (TryPut, TryGet, TaskDone,
// Shutdown, Close...) cannot tell, and must be made on the queue's loop:
// from one of its tasks or callbacks, or through Loop.Post.
//
// Put, Get, Join, Send, SendError, Receive and a range over Channel.All may
// park the calling task; everything
// else never parks. A call that may park takes ctx first: ctx carries the
// calling task, its deadline is the call's timeout and its cancellation ends
// the wait; the call then returns ctx's error and has put or taken nothing.
// Without a task in ctx it fails with scheduler.ErrNoTask. A Put that finds
// room and a Get that finds an item succeed at once, even when ctx is done.
// TryPut and TryGet never park: they fail with ErrFull and ErrEmpty instead.
//
// # Fairness and hand-off
//
// Parked Gets are served in the order they came, and so are parked Puts. A
// Put that finds a Get parked hands it the item directly, and a Get that
// makes room in a full queue lets the first parked Put's item in: a woken
// task never has to compete again for what it waited for. So a parked Get
// with a deadline keeps waiting until its deadline, however many items
// other Gets took meanwhile, and a Get whose deadline has passed never
// takes an item from the Put that comes after (it is passed over).
//
// # Kills
//
// A task killed in Get after an item was handed to it, but before it ran,
// gives the item back when it is killed: to the next parked Get, or back
// into the queue where it came from: the front of a Queue (in the order the
// items were put), the top of a LifoQueue, its place in a PriorityQueue. A
// bounded queue may then hold more than maxsize items for a while: one more
// for each item given back. A Channel's receiver does the same: nothing sent
// is lost, and values still come out in the order they were sent.
//
// # Misuse
//
// Programming errors panic with a message that starts "queue: ": TaskDone
// called more times than items were put, SendError of a nil error, a
// queue used without being made by New, NewLifo, NewPriority or
// NewPriorityFunc, and a PriorityQueue made with a nil less function.
package queue
