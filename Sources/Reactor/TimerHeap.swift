/// A binary min-heap of timers ordered by deadline (ties: insertion order), with O(log n)
/// insertion and removal at any position. Each timer remembers its index, so cancelling one is
/// cheap. The reactor keeps every timer here: `timeout()` reads the earliest deadline in O(1), a
/// blocking step arms one guard `ev_timer` for it, and fd-only mode arms one timerfd — libev's
/// "be smart about timeouts" advice: many timers cost no libev calls.
struct TimerHeap {
    private(set) var items: [ReactorTimer] = []
    private(set) var nextSequenceNumber: UInt64 = 0

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }
    var first: ReactorTimer? { items.first }
    /// The earliest deadline, kept as a number: the reactor reads it several times a step, and
    /// `first?.deadline` retained and released both the array and the timer each time. Only
    /// `insert` and `remove` move a timer to the top, and a scheduled timer's deadline changes
    /// only while it is out of the heap.
    private(set) var firstDeadline: UInt64?

    mutating func insert(_ timer: ReactorTimer) {
        precondition(timer.heapIndex == nil, "timer is already scheduled")
        timer.sequence = nextSequenceNumber
        nextSequenceNumber &+= 1
        items.append(timer)
        timer.heapIndex = items.count - 1
        siftUp(items.count - 1)
        firstDeadline = items[0].deadline
    }

    mutating func remove(_ timer: ReactorTimer) {
        guard let index = timer.heapIndex else { return }
        timer.heapIndex = nil
        defer { firstDeadline = items.first?.deadline }
        let last = items.removeLast()
        guard index < items.count else { return }
        items[index] = last
        last.heapIndex = index
        siftDown(index)
        siftUp(index)
    }

    /// Unschedules every timer (their reactor is going away).
    mutating func removeAll() {
        for timer in items { timer.heapIndex = nil }
        items.removeAll()
        firstDeadline = nil
    }

    private func precedes(_ a: ReactorTimer, _ b: ReactorTimer) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(items[child], items[parent]) else { return }
            swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < items.count else { return }
            var smallest = left
            let right = left + 1
            if right < items.count && precedes(items[right], items[left]) { smallest = right }
            guard precedes(items[smallest], items[parent]) else { return }
            swapAt(parent, smallest)
            parent = smallest
        }
    }

    private mutating func swapAt(_ i: Int, _ j: Int) {
        items.swapAt(i, j)
        items[i].heapIndex = i
        items[j].heapIndex = j
    }
}
