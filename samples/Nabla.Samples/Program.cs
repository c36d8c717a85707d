using System.CommandLine;
using Nabla.Samples;

var device = new Option<string>("--device") { Description = "cpu or reference", DefaultValueFactory = _ => "cpu" };
var root = new RootCommand("Nabla samples: runnable workloads from SEEDS.md");
var linear = new Command("linear-regression", "Graph mode: fit y = 3x + 2 with gradient descent and print the loss falling");
linear.Options.Add(device);
linear.SetAction(r => LinearRegression.Run(ParseDevice(r.GetValue(device))));
root.Subcommands.Add(linear);

AddSample(W1SoftmaxRegression.Name, W1SoftmaxRegression.Description, W1SoftmaxRegression.Run);
AddSample(W2MnistMlp.Name, W2MnistMlp.Description, W2MnistMlp.Run);
AddSample(W4LinearRegression.Name, W4LinearRegression.Description, W4LinearRegression.Run);
AddSample(W5LogisticRegression.Name, W5LogisticRegression.Description, W5LogisticRegression.Run);
AddSample(W6PcaAutoencoder.Name, W6PcaAutoencoder.Description, W6PcaAutoencoder.Run);
AddSample(W7StackedAutoencoder.Name, W7StackedAutoencoder.Description, W7StackedAutoencoder.Run);
AddSample(W8ConvAutoencoder.Name, W8ConvAutoencoder.Description, W8ConvAutoencoder.Run);
AddSample(W10DenoisingAutoencoder.Name, W10DenoisingAutoencoder.Description, W10DenoisingAutoencoder.Run);
AddSample(W11SparseAutoencoder.Name, W11SparseAutoencoder.Description, W11SparseAutoencoder.Run);
AddSample(W12DenoisingConvAutoencoder.Name, W12DenoisingConvAutoencoder.Description, W12DenoisingConvAutoencoder.Run);
AddSample(W13Vae.Name, W13Vae.Description, W13Vae.Run);
AddSample(W14ConvVae.Name, W14ConvVae.Description, W14ConvVae.Run);
AddSample(W15Dcgan.Name, W15Dcgan.Description, W15Dcgan.Run);
AddSample(W17LeNet.Name, W17LeNet.Description, W17LeNet.Run);
AddSample(W18Vgg16.Name, W18Vgg16.Description, W18Vgg16.Run);
var cdK = new Option<int>("--cd-k") { Description = "Gibbs steps per contrastive-divergence update (CD-k)", DefaultValueFactory = _ => 1 };
cdK.Validators.Add(r =>
{
    if (r.GetValueOrDefault<int>() < 1) r.AddError($"--cd-k must be at least 1, got {r.GetValueOrDefault<int>()}");
});
AddSampleWith(W23Rbm.Name, W23Rbm.Description, (o, r) => W23Rbm.Run(o, r.GetValue(cdK)), cdK);
AddSample(W22SelfOrganisingMap.Name, W22SelfOrganisingMap.Description, W22SelfOrganisingMap.Run);
AddSample(W24Dqn.Name, W24Dqn.Description, W24Dqn.Run);
root.Subcommands.Add(OnnxGradCheckCommand.Create());
return root.Parse(args).Invoke();

// Every workload sample takes the same options and runs in-process through its Run(SampleOptions).
void AddSample(string name, string description, Func<SampleOptions, SampleResult> run) => AddSampleWith(name, description, (o, _) => run(o));

// A sample with options of its own beyond the common ones, read from the parse result.
void AddSampleWith(string name, string description, Func<SampleOptions, ParseResult, SampleResult> run, params Option[] extra)
{
    var epochs = new Option<int?>("--epochs") { Description = "Epochs to train (default: the workload's SEEDS.md figure)" };
    var batchSize = new Option<int?>("--batch-size") { Description = "Batch size (default: the workload's)" };
    var output = new Option<string>("--out") { Description = "Folder for PNGs and logs", DefaultValueFactory = _ => Path.Combine("samples-output", name) };
    var quick = new Option<bool>("--quick") { Description = "A few epochs on a subset of the data (a smoke test, not a result)" };
    var dev = new Option<string>("--device") { Description = "cpu or reference", DefaultValueFactory = _ => "cpu" };
    foreach (var positive in new[] { epochs, batchSize })
        positive.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is <= 0) r.AddError($"{positive.Name} must be positive, got {r.GetValueOrDefault<int?>()}");
        });
    dev.AcceptOnlyFromAmong("cpu", "reference");
    var command = new Command(name, description) { epochs, batchSize, output, quick, dev };
    foreach (var option in extra) command.Options.Add(option);
    command.SetAction(r =>
    {
        run(new SampleOptions(name, r.GetValue(epochs), r.GetValue(batchSize), r.GetValue(output), r.GetValue(quick), ParseDevice(r.GetValue(dev))), r);
        return 0;
    });
    root.Subcommands.Add(command);
}

static Nabla.Device ParseDevice(string? name) => name switch
{
    "cpu" => Nabla.Device.Cpu,
    "reference" => Nabla.Device.Reference,
    _ => throw new ArgumentException($"unknown device '{name}'; use cpu or reference", nameof(name)),
};
