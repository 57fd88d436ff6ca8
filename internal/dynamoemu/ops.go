package dynamoemu

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/time/rate"
)

type keyElement struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

type attrDef struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

type tableDescription struct {
	TableName            string       `json:"TableName"`
	TableStatus          string       `json:"TableStatus"`
	TableArn             string       `json:"TableArn"`
	KeySchema            []keyElement `json:"KeySchema"`
	AttributeDefinitions []attrDef    `json:"AttributeDefinitions"`
	ItemCount            int          `json:"ItemCount"`
	CreationDateTime     float64      `json:"CreationDateTime"`
	BillingModeSummary   struct {
		BillingMode string `json:"BillingMode"`
	} `json:"BillingModeSummary"`
}

func (s *Server) describe(t *table) tableDescription {
	d := tableDescription{TableName: t.name, TableStatus: "ACTIVE", TableArn: "arn:aws:dynamodb:" + s.cfg.Region + ":" + s.cfg.AccountID + ":table/" + t.name,
		CreationDateTime: float64(t.created.UnixMilli()) / 1000}
	d.BillingModeSummary.BillingMode = "PAY_PER_REQUEST"
	d.KeySchema = append(d.KeySchema, keyElement{t.hashKey, "HASH"})
	if t.rangeKey != "" {
		d.KeySchema = append(d.KeySchema, keyElement{t.rangeKey, "RANGE"})
	}
	for _, k := range d.KeySchema {
		d.AttributeDefinitions = append(d.AttributeDefinitions, attrDef{k.AttributeName, t.attrTypes[k.AttributeName]})
	}
	for _, e := range t.items {
		if e.cur != nil {
			d.ItemCount++
		}
	}
	return d
}

func (s *Server) createTable(body []byte) (any, *APIError) {
	var in struct {
		TableName            string
		KeySchema            []keyElement
		AttributeDefinitions []attrDef
		BillingMode          string
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if len(in.TableName) < 3 || len(in.TableName) > 255 {
		return nil, validation("TableName %q: must be 3 to 255 characters", in.TableName)
	}
	t := &table{name: in.TableName, attrTypes: map[string]string{}, items: map[string]*entry{}, created: s.cfg.Clock()}
	for _, d := range in.AttributeDefinitions {
		if d.AttributeType != "S" && d.AttributeType != "N" && d.AttributeType != "B" {
			return nil, validation("AttributeDefinitions: attribute %q has type %q; must be S, N or B", d.AttributeName, d.AttributeType)
		}
		t.attrTypes[d.AttributeName] = d.AttributeType
	}
	for _, k := range in.KeySchema {
		if _, ok := t.attrTypes[k.AttributeName]; !ok {
			return nil, validation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s]", k.AttributeName)
		}
		switch {
		case k.KeyType == "HASH" && t.hashKey == "":
			t.hashKey = k.AttributeName
		case k.KeyType == "RANGE" && t.rangeKey == "":
			t.rangeKey = k.AttributeName
		default:
			return nil, validation("KeySchema: invalid key element %q of type %q", k.AttributeName, k.KeyType)
		}
	}
	if t.hashKey == "" {
		return nil, validation("KeySchema: a HASH key is required")
	}
	if len(t.attrTypes) != len(in.KeySchema) {
		return nil, validation("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	if s.cfg.RequestsPerSecond > 0 {
		t.limiter = rate.NewLimiter(rate.Limit(s.cfg.RequestsPerSecond), int(math.Max(1, math.Ceil(s.cfg.RequestsPerSecond))))
		t.limiter.SetBurstAt(s.cfg.Clock(), t.limiter.Burst())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tables[in.TableName]; ok {
		return nil, &APIError{Code: "ResourceInUseException", Message: "Table already exists: " + in.TableName, HTTPStatus: http.StatusBadRequest}
	}
	s.tables[in.TableName] = t
	return map[string]any{"TableDescription": s.describe(t)}, nil
}

func (s *Server) describeTable(body []byte) (any, *APIError) {
	var in struct{ TableName string }
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[in.TableName]
	if !ok {
		return nil, errNotFound
	}
	return map[string]any{"Table": s.describe(t)}, nil
}

func (s *Server) deleteTable(body []byte) (any, *APIError) {
	var in struct{ TableName string }
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[in.TableName]
	if !ok {
		return nil, errNotFound
	}
	delete(s.tables, in.TableName)
	d := s.describe(t)
	d.TableStatus = "DELETING"
	return map[string]any{"TableDescription": d}, nil
}

// keyOf checks that key holds exactly the table's key attributes with their types and returns
// the storage key.
func (t *table) keyOf(key Item, exact bool) (string, *APIError) {
	names := []string{t.hashKey}
	if t.rangeKey != "" {
		names = append(names, t.rangeKey)
	}
	if exact && len(key) != len(names) {
		return "", validation("The provided key element does not match the schema")
	}
	var b strings.Builder
	for _, n := range names {
		v, ok := key[n]
		if !ok {
			if exact {
				return "", validation("The provided key element does not match the schema")
			}
			return "", validation("One or more parameter values were invalid: Missing the key %s in the item", n)
		}
		if v.kind() != t.attrTypes[n] {
			return "", validation("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", n, t.attrTypes[n], v.kind())
		}
		raw, _ := json.Marshal(v)
		b.Write(raw)
		b.WriteByte(0)
	}
	return b.String(), nil
}

func (t *table) keyAttrs() map[string]bool {
	m := map[string]bool{t.hashKey: true}
	if t.rangeKey != "" {
		m[t.rangeKey] = true
	}
	return m
}

type writeCommon struct {
	TableName                           string
	ConditionExpression                 string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]Value
	ReturnValues                        string
	ReturnValuesOnConditionCheckFailure string
	Expected                            json.RawMessage
	ConditionalOperator                 string
}

func (w *writeCommon) legacy() *APIError {
	if len(w.Expected) > 0 || w.ConditionalOperator != "" {
		return validation("legacy parameters (Expected, ConditionalOperator) are not supported by this emulator; use ConditionExpression")
	}
	return nil
}

// check evaluates the write's condition against the current item.
func (w *writeCommon) check(c cond, cur Item) *APIError {
	ok, err := c(cur)
	if err != nil {
		return validation("%s", err.Error())
	}
	if !ok {
		e := &APIError{Code: "ConditionalCheckFailedException", Message: "The conditional request failed", HTTPStatus: http.StatusBadRequest}
		if w.ReturnValuesOnConditionCheckFailure == "ALL_OLD" && cur != nil {
			e.Item = cur.clone()
		}
		return e
	}
	return nil
}

func itemSize(it Item) int {
	b, _ := json.Marshal(it)
	return len(b)
}

func (s *Server) putItem(body []byte) (any, *APIError) {
	var in struct {
		writeCommon
		Item Item
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := in.legacy(); e != nil {
		return nil, e
	}
	if in.ReturnValues != "" && in.ReturnValues != "NONE" && in.ReturnValues != "ALL_OLD" {
		return nil, validation("ReturnValues %q: PutItem takes NONE or ALL_OLD", in.ReturnValues)
	}
	for k, v := range in.Item {
		if err := v.check(k); err != nil {
			return nil, validation("One or more parameter values were invalid: %s", err.Error())
		}
	}
	if itemSize(in.Item) > maxItemBytes {
		return nil, validation("Item size has exceeded the maximum allowed size")
	}
	ctx, err := newContext(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, validation("%s", err.Error())
	}
	c, err := ctx.condition(in.ConditionExpression)
	if err != nil {
		return nil, validation("%s", err.Error())
	}
	if err := ctx.unused(); err != nil {
		return nil, validation("%s", err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.table(in.TableName)
	if e != nil {
		return nil, e
	}
	k, e := t.keyOf(in.Item, false)
	if e != nil {
		return nil, e
	}
	en := t.items[k]
	var cur Item
	if en != nil {
		cur = en.cur
	}
	if e := in.check(c, cur); e != nil {
		return nil, e
	}
	t.items[k] = &entry{cur: in.Item.clone(), prev: cur}
	out := map[string]any{}
	if in.ReturnValues == "ALL_OLD" && cur != nil {
		out["Attributes"] = cur.clone()
	}
	return out, nil
}

func (s *Server) updateItem(body []byte) (any, *APIError) {
	var in struct {
		writeCommon
		Key              Item
		UpdateExpression string
		AttributeUpdates json.RawMessage
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := in.legacy(); e != nil {
		return nil, e
	}
	if len(in.AttributeUpdates) > 0 {
		return nil, validation("legacy parameter AttributeUpdates is not supported by this emulator; use UpdateExpression")
	}
	switch in.ReturnValues {
	case "", "NONE", "ALL_OLD", "ALL_NEW":
	default:
		return nil, validation("ReturnValues %q: this emulator takes NONE, ALL_OLD or ALL_NEW", in.ReturnValues)
	}
	ctx, err := newContext(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, validation("%s", err.Error())
	}
	c, err := ctx.condition(in.ConditionExpression)
	if err != nil {
		return nil, validation("%s", err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.table(in.TableName)
	if e != nil {
		return nil, e
	}
	k, e := t.keyOf(in.Key, true)
	if e != nil {
		return nil, e
	}
	var up update
	if in.UpdateExpression != "" {
		if up, err = ctx.update(in.UpdateExpression, t.keyAttrs()); err != nil {
			return nil, validation("%s", err.Error())
		}
	}
	if err := ctx.unused(); err != nil {
		return nil, validation("%s", err.Error())
	}
	en := t.items[k]
	var cur Item
	if en != nil {
		cur = en.cur
	}
	if e := in.check(c, cur); e != nil {
		return nil, e
	}
	next := cur.clone()
	if next == nil {
		next = in.Key.clone()
	}
	if up != nil {
		if err := up(next); err != nil {
			return nil, validation("%s", err.Error())
		}
	}
	if itemSize(next) > maxItemBytes {
		return nil, validation("Item size to update has exceeded the maximum allowed size")
	}
	t.items[k] = &entry{cur: next, prev: cur}
	out := map[string]any{}
	switch {
	case in.ReturnValues == "ALL_OLD" && cur != nil:
		out["Attributes"] = cur.clone()
	case in.ReturnValues == "ALL_NEW":
		out["Attributes"] = next.clone()
	}
	return out, nil
}

func (s *Server) deleteItem(body []byte) (any, *APIError) {
	var in struct {
		writeCommon
		Key Item
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := in.legacy(); e != nil {
		return nil, e
	}
	if in.ReturnValues != "" && in.ReturnValues != "NONE" && in.ReturnValues != "ALL_OLD" {
		return nil, validation("ReturnValues %q: DeleteItem takes NONE or ALL_OLD", in.ReturnValues)
	}
	ctx, err := newContext(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, validation("%s", err.Error())
	}
	c, err := ctx.condition(in.ConditionExpression)
	if err != nil {
		return nil, validation("%s", err.Error())
	}
	if err := ctx.unused(); err != nil {
		return nil, validation("%s", err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.table(in.TableName)
	if e != nil {
		return nil, e
	}
	k, e := t.keyOf(in.Key, true)
	if e != nil {
		return nil, e
	}
	en := t.items[k]
	var cur Item
	if en != nil {
		cur = en.cur
	}
	if e := in.check(c, cur); e != nil {
		return nil, e
	}
	if cur != nil {
		t.items[k] = &entry{prev: cur}
	}
	out := map[string]any{}
	if in.ReturnValues == "ALL_OLD" && cur != nil {
		out["Attributes"] = cur.clone()
	}
	return out, nil
}

// read answers an item as a read sees it: consistent reads the current version, others maybe
// the previous one.
func (s *Server) read(en *entry, consistent bool) Item {
	if en == nil {
		return nil
	}
	if !consistent && s.cfg.StaleReadProbability > 0 && s.rng.Float64() < s.cfg.StaleReadProbability {
		return en.prev
	}
	return en.cur
}

func (s *Server) getItem(body []byte) (any, *APIError) {
	var in struct {
		TableName                string
		Key                      Item
		ConsistentRead           bool
		ProjectionExpression     string
		AttributesToGet          []string
		ExpressionAttributeNames map[string]string
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.ProjectionExpression != "" || in.AttributesToGet != nil || in.ExpressionAttributeNames != nil {
		return nil, validation("projections are not supported by this emulator")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.table(in.TableName)
	if e != nil {
		return nil, e
	}
	k, e := t.keyOf(in.Key, true)
	if e != nil {
		return nil, e
	}
	out := map[string]any{}
	if it := s.read(t.items[k], in.ConsistentRead); it != nil {
		out["Item"] = it.clone()
	}
	return out, nil
}

func (s *Server) scan(body []byte) (any, *APIError) {
	var in struct {
		TableName                 string
		Limit                     *int
		ExclusiveStartKey         Item
		ConsistentRead            bool
		FilterExpression          string
		ExpressionAttributeNames  map[string]string
		ExpressionAttributeValues map[string]Value
		ProjectionExpression      string
		Segment, TotalSegments    *int
		ScanFilter                json.RawMessage
		Select                    string
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.ProjectionExpression != "" || in.Segment != nil || in.TotalSegments != nil || len(in.ScanFilter) > 0 || (in.Select != "" && in.Select != "ALL_ATTRIBUTES") {
		return nil, validation("projections, parallel scans, Select and ScanFilter are not supported by this emulator")
	}
	if in.Limit != nil && *in.Limit < 1 {
		return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Limit)
	}
	ctx, err := newContext(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, validation("%s", err.Error())
	}
	c, err := ctx.condition(in.FilterExpression)
	if err != nil {
		return nil, validation("%s", strings.Replace(err.Error(), "ConditionExpression", "FilterExpression", 1))
	}
	if err := ctx.unused(); err != nil {
		return nil, validation("%s", err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.table(in.TableName)
	if e != nil {
		return nil, e
	}
	keys := make([]string, 0, len(t.items))
	for k := range t.items {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	start := 0
	if in.ExclusiveStartKey != nil {
		k, e := t.keyOf(in.ExclusiveStartKey, true)
		if e != nil {
			return nil, e
		}
		start, _ = slices.BinarySearch(keys, k)
		if start < len(keys) && keys[start] == k {
			start++
		}
	}
	items := []Item{}
	scanned := 0
	var last Item
	for _, k := range keys[start:] {
		if in.Limit != nil && scanned == *in.Limit {
			break
		}
		it := s.read(t.items[k], in.ConsistentRead)
		if it == nil {
			continue
		}
		scanned++
		last = it
		ok, err := c(it)
		if err != nil {
			return nil, validation("%s", err.Error())
		}
		if ok {
			items = append(items, it.clone())
		}
	}
	out := map[string]any{"Items": items, "Count": len(items), "ScannedCount": scanned}
	if in.Limit != nil && scanned == *in.Limit && last != nil {
		lk := Item{t.hashKey: last[t.hashKey]}
		if t.rangeKey != "" {
			lk[t.rangeKey] = last[t.rangeKey]
		}
		out["LastEvaluatedKey"] = lk
	}
	return out, nil
}
