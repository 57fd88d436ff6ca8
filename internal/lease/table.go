package lease

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Checkpoint sentinels, spelled as the KCL writes them.
const (
	TrimHorizon = "TRIM_HORIZON" // start of the shard's retained records
	Latest      = "LATEST"       // only records written from now on
	ShardEnd    = "SHARD_END"    // the shard is closed and every record of it is done
)

// Attribute names of a lease item. The KCL's names where the KCL has the attribute.
const (
	attrKey        = "leaseKey"
	attrOwner      = "leaseOwner"
	attrCounter    = "leaseCounter"
	attrCheckpoint = "checkpoint"
	attrSubSeq     = "checkpointSubSequenceNumber"
	attrSwitches   = "ownerSwitchesSinceCheckpoint"
	attrParents    = "parentShardId"
	attrHandoff    = "handoffTo" // flowd's: a graceful steal in progress (see the package doc)
)

// ErrLost is returned when a fenced write finds the lease changed (another owner took it, or
// renewed it since we read it): the caller no longer holds the lease and must stop the shard
// without checkpointing.
var ErrLost = errors.New("lease lost")

// ErrExists is returned by Create when the lease is already in the table.
var ErrExists = errors.New("lease already exists")

// Lease is one shard's lease as stored.
type Lease struct {
	Key           string   // the shard id
	Owner         string   // "" when nobody holds it
	Counter       int64    // fencing token: every write checks it and increments it
	Checkpoint    string   // a sequence number, TrimHorizon, Latest or ShardEnd
	OwnerSwitches int64    // owner changes since the last checkpoint
	Parents       []string // parent shard ids (one after a split, two after a merge)
	HandoffTo     string   // a worker that asked for this lease (graceful steal)
}

// DynamoDB is the part of the DynamoDB API the lease table uses; *dynamodb.Client satisfies it.
type DynamoDB interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Table reads and writes lease items. Every write that changes a lease is conditional on the
// lease counter it last saw and increments it, so of two writers only the first succeeds.
type Table struct {
	db   DynamoDB
	name string
}

// NewTable returns a Table over the named DynamoDB table.
func NewTable(db DynamoDB, name string) (*Table, error) {
	if db == nil {
		return nil, errors.New("lease table: no DynamoDB client")
	}
	if len(name) < 3 || len(name) > 255 {
		return nil, fmt.Errorf("lease table name %q: must be 3 to 255 characters", name)
	}
	return &Table{db: db, name: name}, nil
}

// Name is the DynamoDB table name.
func (t *Table) Name() string { return t.name }

// Ensure creates the table (hash key leaseKey, on-demand billing) unless it exists.
func (t *Table) Ensure(ctx context.Context) error {
	_, err := t.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &t.name})
	if err == nil {
		return nil
	}
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		return fmt.Errorf("describe lease table %q: %w", t.name, err)
	}
	_, err = t.db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &t.name,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(attrKey), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(attrKey), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create lease table %q: %w", t.name, err)
	}
	return nil
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func (t *Table) key(k string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrKey: str(k)}
}

// Create writes a new, unowned lease; ErrExists if the shard has one already.
func (t *Table) Create(ctx context.Context, l Lease) error {
	item := map[string]types.AttributeValue{
		attrKey: str(l.Key), attrCounter: num(0), attrCheckpoint: str(l.Checkpoint),
		attrSubSeq: num(0), attrSwitches: num(0),
	}
	if len(l.Parents) > 0 {
		item[attrParents] = &types.AttributeValueMemberSS{Value: slices.Clone(l.Parents)}
	}
	_, err := t.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t.name, Item: item,
		ConditionExpression: aws.String("attribute_not_exists(leaseKey)")})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("create lease %q: %w", l.Key, err)
	}
	return nil
}

// List reads every lease with consistent reads (a stale read could show a taken lease as free).
func (t *Table) List(ctx context.Context) ([]Lease, error) {
	var out []Lease
	p := dynamodb.NewScanPaginator(t.db, &dynamodb.ScanInput{TableName: &t.name, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan lease table %q: %w", t.name, err)
		}
		for _, it := range page.Items {
			l, err := decodeLease(it)
			if err != nil {
				return nil, fmt.Errorf("lease table %q: %w", t.name, err)
			}
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b Lease) int { return cmpString(a.Key, b.Key) })
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Get reads one lease with a consistent read.
func (t *Table) Get(ctx context.Context, key string) (Lease, bool, error) {
	out, err := t.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t.name, Key: t.key(key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Lease{}, false, fmt.Errorf("get lease %q: %w", key, err)
	}
	if out.Item == nil {
		return Lease{}, false, nil
	}
	l, err := decodeLease(out.Item)
	return l, err == nil, err
}

func decodeLease(it map[string]types.AttributeValue) (Lease, error) {
	var l Lease
	var err error
	getS := func(name string, required bool) string {
		v, ok := it[name].(*types.AttributeValueMemberS)
		if !ok {
			if required && err == nil {
				err = fmt.Errorf("lease item: attribute %s missing or not a string", name)
			}
			return ""
		}
		return v.Value
	}
	getN := func(name string) int64 {
		v, ok := it[name].(*types.AttributeValueMemberN)
		if !ok {
			return 0
		}
		n, perr := strconv.ParseInt(v.Value, 10, 64)
		if perr != nil && err == nil {
			err = fmt.Errorf("lease item: attribute %s = %q: %w", name, v.Value, perr)
		}
		return n
	}
	l.Key = getS(attrKey, true)
	l.Owner = getS(attrOwner, false)
	l.Checkpoint = getS(attrCheckpoint, true)
	l.HandoffTo = getS(attrHandoff, false)
	l.Counter = getN(attrCounter)
	l.OwnerSwitches = getN(attrSwitches)
	if ss, ok := it[attrParents].(*types.AttributeValueMemberSS); ok {
		l.Parents = slices.Sorted(slices.Values(ss.Value))
	}
	if err != nil {
		return Lease{}, fmt.Errorf("%w (lease %q)", err, l.Key)
	}
	return l, nil
}

// write is one fenced UpdateItem: the condition always includes leaseCounter = l.Counter; on
// success l is replaced by the item as written. owner is who holds the lease after the write.
//
// When the answer is lost (a timeout, a dropped connection) the write may or may not have been
// applied. Rather than carry a counter that may be stale (the next write would then fail and
// lose a lease nobody took), the item is read back: the counter one past ours with the owner
// the write sets can only be our write, because only the holder moves the counter of a lease it
// holds and every taker changes the owner.
func (t *Table) write(ctx context.Context, l *Lease, what, owner, update, cond string, names map[string]string, vals map[string]types.AttributeValue) error {
	if vals == nil {
		vals = map[string]types.AttributeValue{}
	}
	vals[":c"] = num(l.Counter)
	vals[":one"] = num(1)
	full := "leaseCounter = :c"
	if cond != "" {
		full += " AND " + cond
	}
	if len(names) == 0 {
		names = nil
	}
	out, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &t.name, Key: t.key(l.Key),
		UpdateExpression: aws.String(update), ConditionExpression: aws.String(full),
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals, ReturnValues: types.ReturnValueAllNew})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%s lease %q at counter %d: %w", what, l.Key, l.Counter, ErrLost)
	}
	if err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if cur, ok, rerr := t.Get(rctx, l.Key); rerr == nil && ok && cur.Counter == l.Counter+1 && cur.Owner == owner {
			*l = cur
			return nil
		}
		return fmt.Errorf("%s lease %q: %w", what, l.Key, err)
	}
	nl, err := decodeLease(out.Attributes)
	if err != nil {
		return err
	}
	*l = nl
	return nil
}

// Renew increments the counter of a lease owner holds (the heartbeat others watch).
func (t *Table) Renew(ctx context.Context, l *Lease, owner string) error {
	return t.write(ctx, l, "renew", owner, "SET leaseCounter = leaseCounter + :one",
		"leaseOwner = :o", nil, map[string]types.AttributeValue{":o": str(owner)})
}

// Take makes owner the holder of a lease that is unowned or whose holder let it expire, as seen
// at l.Counter.
func (t *Table) Take(ctx context.Context, l *Lease, owner string) error {
	return t.write(ctx, l, "take", owner, "SET leaseCounter = leaseCounter + :one, leaseOwner = :o, ownerSwitchesSinceCheckpoint = ownerSwitchesSinceCheckpoint + :one REMOVE handoffTo",
		"", nil, map[string]types.AttributeValue{":o": str(owner)})
}

// RequestHandoff asks the holder to hand the lease to requester at its next renewal. It is
// the one write that neither checks nor moves the counter: it changes nothing the holder
// relies on, and moving the counter would make the holder's next renewal fail and lose the
// lease without the final checkpoint the hand-off exists for. It only succeeds while the lease
// still has the owner seen and no other request pending.
func (t *Table) RequestHandoff(ctx context.Context, l *Lease, requester string) error {
	_, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &t.name, Key: t.key(l.Key),
		UpdateExpression:          aws.String("SET handoffTo = :r"),
		ConditionExpression:       aws.String("leaseOwner = :o AND attribute_not_exists(handoffTo)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": str(l.Owner), ":r": str(requester)}})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("request hand-off of lease %q: %w", l.Key, ErrLost)
	}
	if err != nil {
		return fmt.Errorf("request hand-off of lease %q: %w", l.Key, err)
	}
	l.HandoffTo = requester
	return nil
}

// Checkpoint records how far owner has processed (a sequence number or ShardEnd).
func (t *Table) Checkpoint(ctx context.Context, l *Lease, owner, checkpoint string) error {
	return t.write(ctx, l, "checkpoint", owner, "SET leaseCounter = leaseCounter + :one, #cp = :cp, ownerSwitchesSinceCheckpoint = :zero",
		"leaseOwner = :o", map[string]string{"#cp": attrCheckpoint},
		map[string]types.AttributeValue{":o": str(owner), ":cp": str(checkpoint), ":zero": num(0)})
}

// Transfer gives a lease owner holds to the worker that asked for it (the end of a hand-off).
func (t *Table) Transfer(ctx context.Context, l *Lease, owner, to string) error {
	return t.write(ctx, l, "transfer", to, "SET leaseCounter = leaseCounter + :one, leaseOwner = :to, ownerSwitchesSinceCheckpoint = ownerSwitchesSinceCheckpoint + :one REMOVE handoffTo",
		"leaseOwner = :o", nil, map[string]types.AttributeValue{":o": str(owner), ":to": str(to)})
}

// Release gives up a lease owner holds, leaving it unowned for anyone to take at once.
func (t *Table) Release(ctx context.Context, l *Lease, owner string) error {
	return t.write(ctx, l, "release", "", "SET leaseCounter = leaseCounter + :one REMOVE leaseOwner, handoffTo",
		"leaseOwner = :o", nil, map[string]types.AttributeValue{":o": str(owner)})
}
