package domain

// Invalidation says an environment changed: its snapshots older than Version are stale.
// The admin service enqueues one with every change it commits and delivers it after.
type Invalidation struct {
	EnvironmentID string
	Version       int64
}

// DeliveryReport says what one round of invalidation delivery did.
type DeliveryReport struct {
	Delivered int // invalidations published
	Coalesced int // older invalidations of the same environments made redundant
	Failed    int // invalidations left for a later attempt
}
