namespace Nabla.Samples.Rl;

/// <summary>
/// The cart-pole balancing task of Barto, Sutton &amp; Anderson (1983), "Neuronlike adaptive elements that
/// can solve difficult learning control problems", IEEE Trans. SMC 13(5), with the constants, Euler
/// integration, termination and reward of Gymnasium's <c>CartPole-v1</c>
/// (gymnasium/envs/classic_control/cartpole.py, registered with max_episode_steps = 500).
/// </summary>
/// <remarks>
/// State (x, ẋ, θ, θ̇): cart position (m), cart velocity, pole angle from upright (rad), angular velocity.
/// Action 0 pushes the cart left with 10 N, action 1 right. Each step gives +1, the step that ends the
/// episode included. The episode terminates when |x| &gt; 2.4 or |θ| &gt; 12°, and is truncated after 500
/// steps. Reset draws all four state variables uniformly from [−0.05, 0.05]. The state is kept in float64
/// (as Gymnasium's Python floats) and observed as float32 (as its observation array). The random source is
/// .NET's seeded <see cref="Random"/>, not NumPy's, so a seed gives other start states than in Gymnasium.
/// </remarks>
internal sealed class CartPole : IEnvironment
{
    public const double Gravity = 9.8;
    public const double MassCart = 1.0;
    public const double MassPole = 0.1;
    public const double TotalMass = MassCart + MassPole;
    /// <summary>Half the pole's length (Gymnasium's <c>length</c>): the distance to its centre of mass.</summary>
    public const double HalfLength = 0.5;
    public const double PoleMassLength = MassPole * HalfLength;
    public const double ForceMagnitude = 10.0;
    /// <summary>Seconds between state updates.</summary>
    public const double Tau = 0.02;
    /// <summary>12° in radians (Gymnasium writes 12·2π/360).</summary>
    public const double ThetaThreshold = 12 * 2 * Math.PI / 360;
    public const double XThreshold = 2.4;
    public const int MaxEpisodeSteps = 500;

    private Random _random = new();
    private double _x, _xDot, _theta, _thetaDot;
    private int _steps;
    private bool _running;

    public int ObservationSize => 4;

    public int ActionCount => 2;

    /// <summary>The current state (x, ẋ, θ, θ̇) in float64.</summary>
    public (double X, double XDot, double Theta, double ThetaDot) State => (_x, _xDot, _theta, _thetaDot);

    /// <summary>Steps taken in the current episode.</summary>
    public int Steps => _steps;

    public float[] Reset(int? seed = null)
    {
        if (seed is { } s) _random = new Random(s);
        double Draw() => _random.NextDouble() * 0.1 - 0.05;
        return SetState(Draw(), Draw(), Draw(), Draw());
    }

    /// <summary>Starts an episode from a given state (for tests and demonstrations) and returns its observation.</summary>
    public float[] SetState(double x, double xDot, double theta, double thetaDot)
    {
        (_x, _xDot, _theta, _thetaDot) = (x, xDot, theta, thetaDot);
        _steps = 0;
        _running = true;
        return Observe();
    }

    public StepResult Step(int action)
    {
        if ((uint)action >= 2) throw new ArgumentOutOfRangeException(nameof(action), action, "CartPole: the action must be 0 (push left) or 1 (push right)");
        if (!_running) throw new InvalidOperationException("CartPole: the episode has ended (or never started); call Reset");

        // The equations of motion of Barto et al. (1983), as Gymnasium writes them (it follows
        // Florian (2007), "Correct equations for the dynamics of the cart-pole system", with friction 0).
        var force = action == 1 ? ForceMagnitude : -ForceMagnitude;
        var cos = Math.Cos(_theta);
        var sin = Math.Sin(_theta);
        var temp = (force + PoleMassLength * _thetaDot * _thetaDot * sin) / TotalMass;
        var thetaAcc = (Gravity * sin - cos * temp) / (HalfLength * (4.0 / 3.0 - MassPole * cos * cos / TotalMass));
        var xAcc = temp - PoleMassLength * thetaAcc * cos / TotalMass;

        // Explicit Euler (Gymnasium's default kinematics_integrator): positions move with the old velocities.
        _x += Tau * _xDot;
        _xDot += Tau * xAcc;
        _theta += Tau * _thetaDot;
        _thetaDot += Tau * thetaAcc;
        _steps++;

        var terminated = _x < -XThreshold || _x > XThreshold || _theta < -ThetaThreshold || _theta > ThetaThreshold;
        // Gymnasium's TimeLimit wrapper sets truncated at step 500 whether or not the step also terminated.
        var truncated = _steps >= MaxEpisodeSteps;
        _running = !(terminated || truncated);
        return new StepResult(Observe(), 1.0, terminated, truncated);
    }

    private float[] Observe() => [(float)_x, (float)_xDot, (float)_theta, (float)_thetaDot];
}
