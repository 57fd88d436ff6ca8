package dynamoemu_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/flowd-dev/flowd/internal/awshttp"
	"github.com/flowd-dev/flowd/internal/dynamoemu"
	"github.com/flowd-dev/flowd/internal/emufault"
	"github.com/flowd-dev/flowd/internal/memnet"
)

// run starts srv on an in-memory network inside a synctest bubble and hands f a real SDK client.
func run(t *testing.T, cfg dynamoemu.Config, f func(t *testing.T, srv *dynamoemu.Server, c *dynamodb.Client)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		srv, err := dynamoemu.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		l, stop := memnet.Serve(srv)
		defer stop()
		tr := l.Transport()
		defer tr.CloseIdleConnections()
		c := dynamodb.New(dynamodb.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String("http://dynamodb.test"),
			Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
			HTTPClient:   awshttp.Wrap(&http.Client{Transport: tr}),
			Retryer:      aws.NopRetryer{},
		})
		f(t, srv, c)
	})
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int) types.AttributeValue    { return &types.AttributeValueMemberN{Value: strconv.Itoa(v)} }

func create(t *testing.T, c *dynamodb.Client) {
	t.Helper()
	_, err := c.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String("leases"),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("leaseKey"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("leaseKey"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestTableLifecycle(t *testing.T) {
	run(t, dynamoemu.Config{}, func(t *testing.T, _ *dynamoemu.Server, c *dynamodb.Client) {
		ctx := context.Background()
		create(t, c)
		_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("leases"),
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("leaseKey"), KeyType: types.KeyTypeHash}},
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("leaseKey"), AttributeType: types.ScalarAttributeTypeS}}})
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			t.Fatalf("second CreateTable: %v, want ResourceInUseException", err)
		}
		d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("leases")})
		if err != nil || d.Table.TableStatus != types.TableStatusActive || *d.Table.KeySchema[0].AttributeName != "leaseKey" {
			t.Fatalf("DescribeTable: %+v %v", d, err)
		}
		_, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("nope")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("DescribeTable of a missing table: %v", err)
		}
	})
}

func TestConditionalWrites(t *testing.T) {
	run(t, dynamoemu.Config{}, func(t *testing.T, _ *dynamoemu.Server, c *dynamodb.Client) {
		ctx := context.Background()
		create(t, c)
		key := map[string]types.AttributeValue{"leaseKey": s("shard-0")}
		put := func(cond string, vals map[string]types.AttributeValue) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("leases"),
				Item:                map[string]types.AttributeValue{"leaseKey": s("shard-0"), "leaseCounter": n(1), "leaseOwner": s("a")},
				ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals})
			return err
		}
		if err := put("attribute_not_exists(leaseKey)", nil); err != nil {
			t.Fatal(err)
		}
		var ccf *types.ConditionalCheckFailedException
		if err := put("attribute_not_exists(leaseKey)", nil); !errors.As(err, &ccf) {
			t.Fatalf("second create: %v, want ConditionalCheckFailedException", err)
		}
		// Fenced update: counter must match; increments it.
		upd := func(counter int, owner string) (*dynamodb.UpdateItemOutput, error) {
			return c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("leases"), Key: key,
				UpdateExpression:          aws.String("SET leaseCounter = leaseCounter + :one, #o = :o"),
				ConditionExpression:       aws.String("leaseCounter = :c AND (#o = :o OR attribute_not_exists(#o))"),
				ExpressionAttributeNames:  map[string]string{"#o": "leaseOwner"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1), ":c": n(counter), ":o": s(owner)},
				ReturnValues:              types.ReturnValueAllNew, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
		}
		out, err := upd(1, "a")
		if err != nil {
			t.Fatal(err)
		}
		if got := out.Attributes["leaseCounter"].(*types.AttributeValueMemberN).Value; got != "2" {
			t.Fatalf("leaseCounter = %s, want 2", got)
		}
		if _, err := upd(1, "a"); !errors.As(err, &ccf) {
			t.Fatalf("stale counter: %v, want ConditionalCheckFailedException", err)
		} else if ccf.Item["leaseCounter"].(*types.AttributeValueMemberN).Value != "2" {
			t.Fatalf("ALL_OLD item on failure: %+v", ccf.Item)
		}
		if _, err := upd(2, "b"); !errors.As(err, &ccf) {
			t.Fatalf("other owner: %v, want ConditionalCheckFailedException", err)
		}
		// Comparisons, <>, OR, NOT, BETWEEN, IN, begins_with, REMOVE, ADD to a string set.
		for _, tc := range []struct {
			cond string
			ok   bool
		}{
			{"leaseCounter <> :one", true}, {"leaseCounter < :one", false}, {"leaseCounter >= :one", true},
			{"NOT leaseCounter = :one", true}, {"leaseCounter BETWEEN :one AND :one", false},
			{"leaseCounter IN (:one, :two)", true}, {"begins_with(leaseOwner, :a)", true},
			{"attribute_exists(nope) OR leaseCounter = :two", true}, {"attribute_exists(nope) AND leaseCounter = :two", false},
		} {
			vals := map[string]types.AttributeValue{}
			for _, k := range []string{":one", ":two", ":a"} {
				if contains(tc.cond, k) {
					vals[k] = map[string]types.AttributeValue{":one": n(1), ":two": n(2), ":a": s("a")}[k]
				}
			}
			_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("leases"), Key: key,
				UpdateExpression: aws.String("ADD parents :p"), ConditionExpression: aws.String(tc.cond),
				ExpressionAttributeValues: merge(vals, map[string]types.AttributeValue{":p": &types.AttributeValueMemberSS{Value: []string{"x"}}})})
			if (err == nil) != tc.ok {
				t.Errorf("%s: err = %v, want success %v", tc.cond, err, tc.ok)
			}
		}
		g, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("leases"), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if ss := g.Item["parents"].(*types.AttributeValueMemberSS).Value; len(ss) != 1 || ss[0] != "x" {
			t.Fatalf("parents = %v", ss)
		}
		// Unused values and syntax errors are ValidationException.
		_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("leases"), Key: key,
			ConditionExpression: aws.String("leaseCounter = :c"), ExpressionAttributeValues: map[string]types.AttributeValue{":c": n(2), ":x": n(1)}})
		if code(err) != "ValidationException" {
			t.Fatalf("unused value: %v", err)
		}
		_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("leases"), Key: key, ConditionExpression: aws.String("leaseCounter = = 1")})
		if code(err) != "ValidationException" {
			t.Fatalf("syntax error: %v", err)
		}
		if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("leases"), Key: key,
			ConditionExpression: aws.String("leaseCounter = :c"), ExpressionAttributeValues: map[string]types.AttributeValue{":c": n(2)}}); err != nil {
			t.Fatal(err)
		}
		g, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("leases"), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil || g.Item != nil {
			t.Fatalf("after delete: %v %v", g.Item, err)
		}
		// Key checks.
		_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("leases"), Key: map[string]types.AttributeValue{"leaseKey": n(1)}})
		if code(err) != "ValidationException" {
			t.Fatalf("wrong key type: %v", err)
		}
	})
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func merge(a, b map[string]types.AttributeValue) map[string]types.AttributeValue {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func TestScanPages(t *testing.T) {
	run(t, dynamoemu.Config{}, func(t *testing.T, _ *dynamoemu.Server, c *dynamodb.Client) {
		ctx := context.Background()
		create(t, c)
		for i := range 25 {
			if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("leases"),
				Item: map[string]types.AttributeValue{"leaseKey": s("shard-" + strconv.Itoa(i)), "n": n(i)}}); err != nil {
				t.Fatal(err)
			}
		}
		p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String("leases"), Limit: aws.Int32(10), ConsistentRead: aws.Bool(true)})
		seen := map[string]bool{}
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, it := range out.Items {
				k := it["leaseKey"].(*types.AttributeValueMemberS).Value
				if seen[k] {
					t.Fatalf("%s twice", k)
				}
				seen[k] = true
			}
		}
		if len(seen) != 25 || pages != 3 {
			t.Fatalf("scan saw %d items in %d pages, want 25 in 3", len(seen), pages)
		}
	})
}

func TestStaleReads(t *testing.T) {
	run(t, dynamoemu.Config{StaleReadProbability: 1}, func(t *testing.T, _ *dynamoemu.Server, c *dynamodb.Client) {
		ctx := context.Background()
		create(t, c)
		key := map[string]types.AttributeValue{"leaseKey": s("k")}
		for i := 1; i <= 2; i++ {
			if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("leases"), Item: map[string]types.AttributeValue{"leaseKey": s("k"), "v": n(i)}}); err != nil {
				t.Fatal(err)
			}
		}
		stale, _ := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("leases"), Key: key})
		fresh, _ := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("leases"), Key: key, ConsistentRead: aws.Bool(true)})
		if stale.Item["v"].(*types.AttributeValueMemberN).Value != "1" || fresh.Item["v"].(*types.AttributeValueMemberN).Value != "2" {
			t.Fatalf("stale %v fresh %v", stale.Item, fresh.Item)
		}
	})
}

func TestFaultsAndQuota(t *testing.T) {
	run(t, dynamoemu.Config{RequestsPerSecond: 2}, func(t *testing.T, srv *dynamoemu.Server, c *dynamodb.Client) {
		ctx := context.Background()
		create(t, c)
		get := func() error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("leases"), Key: map[string]types.AttributeValue{"leaseKey": s("k")}})
			return err
		}
		_, _ = get(), get()
		var pte *types.ProvisionedThroughputExceededException
		if err := get(); !errors.As(err, &pte) {
			t.Fatalf("third call within a second: %v, want ProvisionedThroughputExceededException", err)
		}
		time.Sleep(time.Second)
		if err := get(); err != nil {
			t.Fatalf("after a second: %v", err)
		}
		time.Sleep(time.Second)
		for _, tc := range []struct {
			kind emufault.Kind
			want string
		}{{emufault.Throttle, "ThrottlingException"}, {emufault.InternalError, "InternalServerError"}, {emufault.Unavailable, "ServiceUnavailable"}} {
			if err := srv.SetFault(dynamoemu.OpGetItem, emufault.Fault{Kind: tc.kind, Count: 1}); err != nil {
				t.Fatal(err)
			}
			if err := get(); code(err) != tc.want {
				t.Errorf("%v: %v, want %s", tc.kind, err, tc.want)
			}
		}
		time.Sleep(time.Second)
		if err := srv.SetFault(dynamoemu.OpGetItem, emufault.Fault{Kind: emufault.Disconnect, Count: 1}); err != nil {
			t.Fatal(err)
		}
		if err := get(); err == nil {
			t.Fatal("disconnect: no error")
		}
		if err := srv.SetFault(dynamoemu.OpGetItem, emufault.Fault{Kind: emufault.Slow, Count: 1, Delay: time.Minute}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := get(); err != nil || time.Since(start) != time.Minute {
			t.Fatalf("slow: %v after %v, want success after exactly 1m of virtual time", err, time.Since(start))
		}
		if srv.FaultHits(dynamoemu.OpGetItem) != 5 {
			t.Fatalf("fault hits = %d, want 5", srv.FaultHits(dynamoemu.OpGetItem))
		}
		// The SDK's standard retryer retries the 500 and succeeds.
		if err := srv.SetFault(dynamoemu.OpGetItem, emufault.Fault{Kind: emufault.InternalError, Count: 1}); err != nil {
			t.Fatal(err)
		}
		_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("leases"), Key: map[string]types.AttributeValue{"leaseKey": s("k")}},
			func(o *dynamodb.Options) { o.Retryer = retry.NewStandard() })
		if err != nil {
			t.Fatalf("retried 500: %v", err)
		}
	})
}
