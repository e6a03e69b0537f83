"""Swift's training streams in Python, for sasrec.py --swift-streams: the epoch order (SASRecTrainer.epochOrder) and
the uniform negatives (UniformNegatives.generator and draw) of `adar train --model sasrec`, bit for bit (checked against
`adar sasrec-gradient`'s "training" answer by sasrec_same_weights.py). Dropout masks stay torch's here
(sasrec_same_weights.SwiftDropout has Swift's, at a few seconds per epoch)."""
MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


class SplitMix:
    """Sources/ADARCore/SeededGenerator.swift."""
    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + GOLDEN) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, bound):
        """Swift's RandomNumberGenerator.next(upperBound:) (Lemire)."""
        m = self.next() * bound
        if (m & MASK64) < bound:
            t = ((1 << 64) - bound) % bound
            while (m & MASK64) < t:
                m = self.next() * bound
        return m >> 64


def generator(seed, epoch, row):
    """UniformNegatives.generator(seed:epoch:row:)."""
    mixer = SplitMix(seed ^ ((epoch * 0xD1B54A32D192ED03) & MASK64))
    return SplitMix(mixer.next() ^ ((row * GOLDEN) & MASK64))


def epoch_order(seed, epoch, users):
    """SASRecTrainer.epochOrder: Swift's shuffle(using:) with the generator of row UInt64.max."""
    order = list(users)
    rng = generator(seed, epoch, MASK64)
    current, amount = 0, len(order)
    while amount > 1:
        j = rng.below(amount)
        amount -= 1
        order[current], order[current + j] = order[current + j], order[current]
        current += 1
    return order


def negative(seed, epoch, row, excluded, items):
    """UniformNegatives.draw: ⌊r·(items + 1)/2⁶⁴⌋ until outside `excluded` and not 0."""
    rng = generator(seed, epoch, row)
    while True:
        item = (rng.next() * (items + 1)) >> 64
        if item != 0 and item not in excluded:
            return item
