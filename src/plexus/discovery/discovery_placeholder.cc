// Replaced by the discovery sources (issue 4).
namespace plexus::discovery {}
