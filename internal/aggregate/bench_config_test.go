package aggregate

// benchContextConfig turns on what BenchmarkParseAggregateContext measures: direction
// inference and two dimensions.
func benchContextConfig(c *Config) {
	c.InferDirection = true
	c.Dimensions = []Dimension{DimVPC, DimSubnet}
}
