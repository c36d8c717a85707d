using System.CommandLine;
using Nabla.Samples;

var device = new Option<string>("--device") { Description = "cpu or reference", DefaultValueFactory = _ => "cpu" };
var root = new RootCommand("Nabla samples: runnable workloads from SEEDS.md");
var linear = new Command("linear-regression", "Graph mode: fit y = 3x + 2 with gradient descent and print the loss falling");
linear.Options.Add(device);
linear.SetAction(r => LinearRegression.Run(r.GetValue(device) == "reference" ? Nabla.Device.Reference : Nabla.Device.Cpu));
root.Subcommands.Add(linear);
return root.Parse(args).Invoke();
