namespace Nabla.Samples.Rl;

/// <summary>
/// An episodic environment with a discrete action space, shaped like Gymnasium's <c>Env</c>
/// (reset with an optional seed, step → observation, reward, terminated, truncated), so an agent
/// written against it can be pointed at another task.
/// </summary>
internal interface IEnvironment
{
    /// <summary>Length of the observation vector.</summary>
    int ObservationSize { get; }

    /// <summary>Number of actions; actions are 0 … ActionCount − 1.</summary>
    int ActionCount { get; }

    /// <summary>
    /// Starts an episode and returns the first observation. A seed re-seeds the environment's random
    /// source (as Gymnasium's <c>reset(seed=…)</c>), so the same seed gives the same start; without one
    /// the source carries on from the previous episode.
    /// </summary>
    float[] Reset(int? seed = null);

    /// <summary>Applies <paramref name="action"/> for one time step.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The action is not in 0 … ActionCount − 1.</exception>
    /// <exception cref="InvalidOperationException">No episode is running (never reset, or it ended).</exception>
    StepResult Step(int action);
}

/// <summary>What one step returns (Gymnasium's 5-tuple without the info dictionary).</summary>
/// <param name="Observation">The observation after the step.</param>
/// <param name="Reward">The reward for the step.</param>
/// <param name="Terminated">The episode reached a terminal state of the task (the value of what follows is 0).</param>
/// <param name="Truncated">The episode was cut by a time limit; the state is not terminal, so its value is not 0.</param>
internal readonly record struct StepResult(float[] Observation, double Reward, bool Terminated, bool Truncated)
{
    /// <summary>Whether the episode is over, either way.</summary>
    public bool Done => Terminated || Truncated;
}
